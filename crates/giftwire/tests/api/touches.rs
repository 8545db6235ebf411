//! Touches over HTTP (API_REFERENCE.md §8): `GET /api/v3/touches` (active ones, paged,
//! `total_posts`, `delivery_type`) and `GET /api/v3/touches/{id}` (wrapped; `404 "Touch not
//! found"`), with the documented fields.

use giftwire_core::store::TouchDetails;
use serde_json::{Value, json};

use crate::helpers::{Backend, assert_schema, backend_tests, spawn};

backend_tests!(
    a_touch_shows_the_documented_fields,
    touches_are_listed_active_ones_only_by_delivery_type,
    one_touch_is_wrapped_and_others_are_not_found,
);

async fn a_touch_shows_the_documented_fields(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "America/Los_Angeles").await;
    let egift = app
        .create_touch(
            acme.org.id,
            "Sendoso Gift",
            "eGifts USA",
            "eGift Cards USA",
            "25",
        )
        .await;
    let details = TouchDetails {
        description: "Thank-you cards".to_owned(),
        created_by: Some(acme.user.id),
        gift_id: Some(39),
        egift_prices: Some(("10".parse().unwrap(), "100.5".parse().unwrap())),
        hubspot_key: Some("hs-123".to_owned()),
    };
    app.store
        .set_touch_details(acme.org.id, egift.id, details, true)
        .await
        .unwrap();
    let (status, _, body) = app.get("/api/v3/touches", &acme.token).await;
    assert_eq!(status, 200, "{body}");
    assert_schema("touch-list", &body);
    let touch = &body["touches"][0];
    let created = touch["created_at"].as_str().unwrap().to_owned();
    assert!(
        created.ends_with(".000-08:00") || created.ends_with(".000-07:00"),
        "{created}"
    );
    assert_eq!(
        touch,
        &json!({
            "id": egift.id.get(), "name": "Sendoso Gift",
            // No start date: sends are accepted from the day it was made.
            "start_date": format!("{}T00:00:00.000{}", &created[..10], &created[23..]),
            "end_date": null, "description": "Thank-you cards", "created_at": created,
            "user_id": acme.user.id.get(), "gift_id": 39,
            "starting_egift_price": 10.0, "ending_egift_price": 100.5,
            "status": "Active", "is_default_price": false, "delivery_type": "email",
            "hubspot_key": "hs-123", "ship_to_countries": ["US", "CA"], "currency": "USD",
        })
    );

    // A dated mail campaign with no price range and nothing else recorded.
    let wine = app
        .store
        .create_touch(
            acme.org.id,
            giftwire_core::store::NewTouch {
                name: giftwire_core::Name::parse("name", "Wine").unwrap(),
                send_type: "Sendoso Direct".parse().unwrap(),
                subtype: "Wine".parse().unwrap(),
                currency: "EUR".parse().unwrap(),
                price: "49.9".parse().unwrap(),
                delivery_type: giftwire_core::DeliveryType::Mail,
                starts_on: Some("2023-10-25".parse().unwrap()),
                ends_on: Some("2030-01-31".parse().unwrap()),
                active: true,
                ship_to: giftwire_core::ShipTo::parse("US,ES,CA").unwrap(),
                details: TouchDetails::default(),
            },
        )
        .await
        .unwrap();
    let (_, _, body) = app
        .get(&format!("/api/v3/touches/{}", wine.id.get()), &acme.token)
        .await;
    assert_schema("touch", &body);
    let touch = &body["touch"];
    assert_eq!(touch["start_date"], "2023-10-25T00:00:00.000-07:00");
    assert_eq!(touch["end_date"], "2030-01-31T00:00:00.000-08:00");
    assert_eq!(
        (
            touch["starting_egift_price"].clone(),
            touch["ending_egift_price"].clone(),
            touch["is_default_price"].clone()
        ),
        (Value::Null, Value::Null, json!(true))
    );
    assert_eq!(
        (
            touch["user_id"].clone(),
            touch["gift_id"].clone(),
            touch["hubspot_key"].clone()
        ),
        (Value::Null, Value::Null, Value::Null)
    );
    assert_eq!(
        (touch["delivery_type"].clone(), touch["currency"].clone()),
        (json!("mail"), json!("EUR"))
    );
    assert_eq!(touch["ship_to_countries"], json!(["US", "ES", "CA"]));

    // The creator must be a user of the organization.
    let globex = app.create_org("Globex", "UTC").await;
    let foreign = TouchDetails {
        created_by: Some(globex.user.id),
        ..TouchDetails::default()
    };
    let refused = app
        .store
        .set_touch_details(acme.org.id, wine.id, foreign, true)
        .await;
    assert!(
        matches!(refused, Err(giftwire_core::StoreError::NotFound("User"))),
        "{refused:?}"
    );
}

async fn touches_are_listed_active_ones_only_by_delivery_type(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let mut egifts = Vec::new();
    let mut mail = Vec::new();
    for i in 0..7 {
        egifts.push(
            app.create_touch(
                acme.org.id,
                &format!("eGift {i}"),
                "eGifts USA",
                "Coffee",
                "5",
            )
            .await
            .id
            .get(),
        );
        mail.push(
            app.create_touch(
                acme.org.id,
                &format!("Box {i}"),
                "Sendoso Direct",
                "Wine",
                "40",
            )
            .await
            .id
            .get(),
        );
    }
    // One of each is switched off: it is not listed.
    let off = app
        .store
        .touch(acme.org.id, giftwire_core::TouchId::new(egifts[0]))
        .await
        .unwrap();
    app.store
        .set_touch_details(acme.org.id, off.id, off.details.clone(), false)
        .await
        .unwrap();
    app.create_touch(globex.org.id, "Globex eGift", "eGifts USA", "Coffee", "5")
        .await;
    let ids = |body: &Value| -> Vec<i64> {
        body["touches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    let mut active: Vec<i64> = egifts[1..].iter().chain(&mail).copied().collect();
    active.sort();

    let (_, _, body) = app.get("/api/v3/touches", &acme.token).await;
    assert_schema("touch-list", &body);
    assert_eq!(
        (body["total_posts"].clone(), body["per_page"].clone()),
        (json!(13), json!(10))
    );
    assert_eq!(ids(&body), active[..10]);
    let (_, _, body) = app.get("/api/v3/touches?page=2", &acme.token).await;
    assert_eq!(ids(&body), active[10..]);
    let (_, _, body) = app
        .get(
            "/api/v3/touches?delivery_type=email&per_page=100",
            &acme.token,
        )
        .await;
    assert_schema("touch-list", &body);
    assert_eq!(
        (body["total_posts"].clone(), ids(&body)),
        (json!(6), egifts[1..].to_vec())
    );
    let (_, _, body) = app
        .get(
            "/api/v3/touches?delivery_type=mail&per_page=3&page=3",
            &acme.token,
        )
        .await;
    assert_eq!(
        (body["total_posts"].clone(), ids(&body)),
        (json!(7), mail[6..].to_vec())
    );
    let (_, _, body) = app
        .get("/api/v3/touches?delivery_type=mail&page=9", &acme.token)
        .await;
    assert_eq!(
        (body["touches"].clone(), body["total_posts"].clone()),
        (json!([]), json!(7))
    );
    for (query, message) in [
        (
            "delivery_type=sms",
            "delivery_type is invalid (got \"sms\"): it must be mail or email",
        ),
        (
            "delivery_type=Mail",
            "delivery_type is invalid (got \"Mail\"): it must be mail or email",
        ),
        (
            "delivery_type=mail&delivery_type=email",
            "delivery_type must be given at most once (got \"mail\" and \"email\")",
        ),
        (
            "per_page=1.5",
            "per_page must be a positive integer (got \"1.5\")",
        ),
    ] {
        let (status, _, body) = app
            .get(&format!("/api/v3/touches?{query}"), &acme.token)
            .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(
            body,
            json!({"success": false, "message": message}),
            "{query}"
        );
    }
    let (_, _, body) = app.get("/api/v3/touches", &globex.token).await;
    assert_eq!(body["total_posts"], 1);
}

async fn one_touch_is_wrapped_and_others_are_not_found(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let touch = app
        .create_touch(acme.org.id, "Coffee", "eGifts USA", "Coffee", "5")
        .await;
    let path = format!("/api/v3/touches/{}", touch.id.get());
    let (status, _, body) = app.get(&path, &acme.token).await;
    assert_eq!(status, 200, "{body}");
    assert_schema("touch", &body);
    assert_eq!(
        (body["success"].clone(), body["touch"]["id"].clone()),
        (json!(true), json!(touch.id.get()))
    );
    let (_, _, listed) = app.get("/api/v3/touches", &acme.token).await;
    assert_eq!(
        body["touch"], listed["touches"][0],
        "the same object as the list's"
    );

    let inactive = app
        .create_touch(acme.org.id, "Old", "eGifts USA", "Coffee", "5")
        .await;
    app.store
        .set_touch_details(acme.org.id, inactive.id, inactive.details.clone(), false)
        .await
        .unwrap();
    for (token, path) in [
        (&globex.token, path.clone()),
        (
            &acme.token,
            format!("/api/v3/touches/{}", inactive.id.get()),
        ),
        (&acme.token, "/api/v3/touches/424242".to_owned()),
        (&acme.token, "/api/v3/touches/abc".to_owned()),
    ] {
        let (status, _, body) = app.get(&path, token).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(
            body,
            json!({"success": false, "message": "Touch not found"}),
            "{path}"
        );
    }
}
