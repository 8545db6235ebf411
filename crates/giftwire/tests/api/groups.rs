//! Team groups over HTTP (API_REFERENCE.md §7): `GET /api/v3/groups` (paged, `total_groups`,
//! budgets with the documented types) and `GET /api/v3/groups/{id}/members` (a bare array; a
//! missing or foreign group is `404 {"message": "Group not found!"}`).

use giftwire_core::store::TeamBudget;
use giftwire_core::{Name, UserState};
use serde_json::json;

use crate::helpers::{Backend, TestApp, assert_schema, backend_tests, spawn};

backend_tests!(
    groups_show_their_budgets_and_what_their_members_may_spend,
    groups_are_paged_like_every_list,
    members_are_a_bare_array_of_the_groups_active_users,
);

async fn groups_show_their_budgets_and_what_their_members_may_spend(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "America/Los_Angeles").await;
    let (status, _, body) = app.get("/api/v3/groups", &acme.token).await;
    assert_eq!(status, 200, "{body}");
    assert_schema("group-list", &body);
    let group = &body["groups"][0];
    // A new team: no budgets yet; its one member (Marc) has the test funds.
    assert_eq!(group["id"], acme.team.get());
    assert_eq!(group["name"], "Marketing Ops");
    assert_eq!(group["team_id"], acme.org.id.get());
    assert_eq!(
        (
            group["monthly_budget"].clone(),
            group["one_time_budget"].clone(),
            group["rollover"].clone()
        ),
        (json!("0"), json!(0), json!(false))
    );
    assert_eq!(group["budget"], TestApp::FUNDS.parse::<i64>().unwrap());
    assert!(
        group["created_at"]
            .as_str()
            .unwrap()
            .ends_with(".000-08:00")
            || group["created_at"]
                .as_str()
                .unwrap()
                .ends_with(".000-07:00")
    );
    assert_eq!(group["created_at"], group["updated_at"]);

    let budget = TeamBudget {
        monthly: "50000".parse().unwrap(),
        one_time: "250.75".parse().unwrap(),
        rollover: true,
    };
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3600);
    app.store
        .set_team_budget(acme.org.id, acme.team, budget, later)
        .await
        .unwrap();
    let (_, _, body) = app.get("/api/v3/groups", &acme.token).await;
    assert_schema("group-list", &body);
    let group = &body["groups"][0];
    assert_eq!(
        (
            group["monthly_budget"].clone(),
            group["one_time_budget"].clone(),
            group["rollover"].clone()
        ),
        (json!("50000"), json!(250), json!(true)),
        "monthly_budget is a string, one_time_budget an integer, as documented"
    );
    assert_ne!(group["created_at"], group["updated_at"]);
    // A member spending moves the team's budget; a deactivated member no longer counts.
    let mate = app
        .create_unfunded_user(acme.org.id, "Ann Lee", "ann@acme.example", Some(acme.team))
        .await;
    app.fund(&mate, "99.99").await;
    let (_, _, body) = app.get("/api/v3/groups", &acme.token).await;
    assert_eq!(
        body["groups"][0]["budget"],
        TestApp::FUNDS.parse::<i64>().unwrap() + 99
    );
    app.store
        .set_user_state(acme.org.id, mate.id, UserState::Deactivated)
        .await
        .unwrap();
    let (_, _, body) = app.get("/api/v3/groups", &acme.token).await;
    assert_eq!(
        body["groups"][0]["budget"],
        TestApp::FUNDS.parse::<i64>().unwrap()
    );
}

async fn groups_are_paged_like_every_list(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let mut ids = vec![acme.team.get()];
    for i in 0..11 {
        let team = app
            .store
            .create_team(
                acme.org.id,
                Name::parse("name", &format!("Team {i}")).unwrap(),
            )
            .await
            .unwrap();
        ids.push(team.id.get());
    }
    let listed = |body: &serde_json::Value| -> Vec<i64> {
        body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_i64().unwrap())
            .collect()
    };
    let (_, _, body) = app.get("/api/v3/groups", &acme.token).await;
    assert_schema("group-list", &body);
    assert_eq!(
        (body["per_page"].clone(), body["total_groups"].clone()),
        (json!(10), json!(12))
    );
    assert_eq!(listed(&body), ids[..10]);
    let (_, _, body) = app.get("/api/v3/groups.json?page=2", &acme.token).await;
    assert_eq!(listed(&body), ids[10..]);
    let (_, _, body) = app
        .get("/api/v3/groups?per_page=1&page=12", &acme.token)
        .await;
    assert_eq!(
        (body["current_page"].clone(), listed(&body)),
        (json!(12), vec![ids[11]])
    );
    let (_, _, body) = app.get("/api/v3/groups?per_page=101", &acme.token).await;
    assert_eq!(
        (body["per_page"].clone(), listed(&body).len()),
        (json!(100), 12)
    );
    let (status, _, body) = app.get("/api/v3/groups?page=3", &acme.token).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["groups"].clone(), body["total_groups"].clone()),
        (json!([]), json!(12))
    );
    let (status, _, body) = app.get("/api/v3/groups?per_page=-1", &acme.token).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "per_page must be a positive integer (got \"-1\")"
    );
    let (_, _, body) = app.get("/api/v3/groups", &globex.token).await;
    assert_eq!(listed(&body), [globex.team.get()]);
}

async fn members_are_a_bare_array_of_the_groups_active_users(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let mate = app
        .create_unfunded_user(acme.org.id, "Ann Lee", "ann@acme.example", Some(acme.team))
        .await;
    app.fund(&mate, "578").await;
    let path = format!("/api/v3/groups/{}/members", acme.team.get());
    let (status, _, body) = app.get(&path, &acme.token).await;
    assert_eq!(status, 200, "{body}");
    assert_schema("group-members", &body);
    let members = body.as_array().unwrap();
    assert_eq!(members.len(), 2, "Marc and Ann; Solo is in no team");
    let ann = &members[1];
    assert_eq!(
        (
            ann["id"].clone(),
            ann["first_name"].clone(),
            ann["last_name"].clone(),
            ann["balance"].clone()
        ),
        (
            json!(mate.id.get()),
            json!("Ann"),
            json!("Lee"),
            json!("578.0")
        )
    );
    assert_eq!(
        (
            ann["team_group_id"].clone(),
            ann["team_id"].clone(),
            ann["sandbox"].clone()
        ),
        (
            json!(acme.team.get()),
            json!(acme.org.id.get()),
            json!(false)
        )
    );
    assert_ne!(
        members[0]["key"], members[1]["key"],
        "each user has a key of its own"
    );

    app.store
        .set_user_state(acme.org.id, mate.id, UserState::Deactivated)
        .await
        .unwrap();
    let (_, _, body) = app.get(&path, &acme.token).await;
    assert_eq!(body.as_array().unwrap().len(), 1);

    // A team without members is an empty array; another organization's team, unknown ids and
    // ids that are not numbers are the documented 404.
    let empty = app
        .store
        .create_team(acme.org.id, Name::parse("name", "Empty").unwrap())
        .await
        .unwrap();
    let (status, _, body) = app
        .get(
            &format!("/api/v3/groups/{}/members", empty.id.get()),
            &acme.token,
        )
        .await;
    assert_eq!((status, body), (200, json!([])));
    for path in [
        path.clone(),
        "/api/v3/groups/999999/members".to_owned(),
        "/api/v3/groups/x/members".to_owned(),
    ] {
        let (status, _, body) = app.get(&path, &globex.token).await;
        assert_eq!(status, 404, "{path}");
        assert_schema("group-not-found", &body);
        assert_eq!(body, json!({"message": "Group not found!"}));
    }
}
