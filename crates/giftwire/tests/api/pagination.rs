//! Pagination (CONTRACT.md §4): defaults, the clamp, pages past the end, malformed values.

use serde_json::json;

use crate::helpers::{Backend, assert_valid, backend_tests, ids, spawn};

async fn the_defaults_are_page_one_of_ten(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let created = app.create_sends(&org, 12).await;
    let (status, _, body) = app.get("/api/v3/send", &org.token).await;
    assert_eq!(status, 200);
    assert_valid(&body);
    assert_eq!(
        (
            body["current_page"].clone(),
            body["per_page"].clone(),
            body["total_count"].clone()
        ),
        (json!(1), json!(10), json!(12))
    );
    assert_eq!(
        ids(&body),
        created[..10].iter().map(|i| i.get()).collect::<Vec<_>>()
    );
    let (_, _, body) = app.get("/api/v3/send?page=2", &org.token).await;
    assert_eq!(
        ids(&body),
        created[10..].iter().map(|i| i.get()).collect::<Vec<_>>()
    );
}

async fn per_page_above_one_hundred_is_clamped_and_says_so(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 105).await;
    let (status, _, body) = app.get("/api/v3/send?per_page=101", &org.token).await;
    assert_eq!(status, 200);
    assert_valid(&body);
    assert_eq!(body["per_page"], 100);
    assert_eq!(ids(&body).len(), 100);
    let (_, _, body) = app
        .get("/api/v3/send?per_page=2147483647&page=2", &org.token)
        .await;
    assert_eq!(body["per_page"], 100);
    assert_eq!(ids(&body).len(), 5);
}

async fn a_page_past_the_end_is_empty_with_the_true_total(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 3).await;
    for page in ["2", "3", "2147483647"] {
        let (status, _, body) = app
            .get(&format!("/api/v3/send?per_page=3&page={page}"), &org.token)
            .await;
        assert_eq!(status, 200);
        assert_valid(&body);
        assert_eq!(body["sends"], json!([]));
        assert_eq!(body["total_count"], 3);
        assert_eq!(body["current_page"], page.parse::<i64>().unwrap());
    }
    let empty = app.create_org("Empty", "UTC").await;
    let (status, _, body) = app.get("/api/v3/send", &empty.token).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"current_page": 1, "per_page": 10, "total_count": 0, "sends": []})
    );
}

async fn malformed_page_values_are_a_400_naming_the_parameter_and_the_value(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 1).await;
    for (param, raw, shown) in [
        ("per_page", "abc", "abc"),
        ("per_page", "0", "0"),
        ("page", "-1", "-1"),
        ("page", "1.5", "1.5"),
        ("page", "", ""),
        ("per_page", "2147483648", "2147483648"),
        ("page", "%2B1", "+1"),
        ("page", "1e3", "1e3"),
        ("page", "%201", " 1"),
    ] {
        let (status, _, body) = app
            .get(&format!("/api/v3/send?{param}={raw}"), &org.token)
            .await;
        assert_eq!(status, 400, "{param}={raw}");
        assert_eq!(
            body,
            json!({"success": false, "message": format!("{param} must be a positive integer (got {shown:?})")}),
            "{param}={raw}"
        );
    }
}

async fn a_known_parameter_given_twice_is_a_400_and_unknown_ones_are_ignored(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 2).await;
    let (status, _, body) = app.get("/api/v3/send?page=1&page=2", &org.token).await;
    assert_eq!(status, 400);
    assert_eq!(body["success"], false);
    assert_eq!(
        body["message"],
        r#"page must be given at most once (got "1" and "2")"#
    );
    let (status, _, body) = app
        .get("/api/v3/send?per_page=1&per_page=1", &org.token)
        .await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().starts_with("per_page"));
    let (status, _, body) = app
        .get(
            "/api/v3/send?sort=desc&state=Sent&per_page=1&x=1&x=2",
            &org.token,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body).len(), 1);
}

async fn pages_read_earlier_do_not_shift_while_sends_are_created(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    app.create_sends(&org, 5).await;
    let (_, _, before) = app.get("/api/v3/send?per_page=2&page=2", &org.token).await;
    app.create_sends(&org, 5).await;
    let (_, _, after) = app.get("/api/v3/send?per_page=2&page=2", &org.token).await;
    assert_eq!(before["sends"], after["sends"]);
    assert_eq!(after["total_count"], 10);
}

backend_tests!(
    the_defaults_are_page_one_of_ten,
    per_page_above_one_hundred_is_clamped_and_says_so,
    a_page_past_the_end_is_empty_with_the_true_total,
    malformed_page_values_are_a_400_naming_the_parameter_and_the_value,
    a_known_parameter_given_twice_is_a_400_and_unknown_ones_are_ignored,
    pages_read_earlier_do_not_shift_while_sends_are_created,
);
