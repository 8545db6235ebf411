//! The recipient pages, driven by a real HTTP client that keeps cookies, as a browser would:
//! the eGift page, its pixel and redemption, the address form, CSRF, escaping and 404s.

use serde_json::Value;

use crate::create::{collection_body, egift_body, shop};
use crate::helpers::{Backend, TestApp, backend_tests, spawn};

/// A browser: follows no redirects (so they can be checked) and keeps cookies.
fn browser() -> reqwest::Client {
    crate::http::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The hidden CSRF field of a page.
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    page[at..at + 32].to_owned()
}

fn statuses(send: &Value) -> Vec<String> {
    send["status_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap().to_owned())
        .collect()
}

async fn first_send(app: &TestApp, token: &str) -> Value {
    app.all_sends(token).await["sends"][0].clone()
}

async fn the_egift_page_records_each_step_once(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (_, _, created) = app
        .post("/api/v3/send", &shop.token, &egift_body(shop.egift), None)
        .await;
    let url = created["tracking_url"].as_str().unwrap().to_owned();
    let browser = browser();

    // The mail is opened (pixel), then the link clicked; reloading changes nothing.
    let pixel = browser.get(format!("{url}/open.gif")).send().await.unwrap();
    assert_eq!(pixel.status(), 200);
    assert_eq!(pixel.headers()["content-type"], "image/gif");
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let page = page.text().await.unwrap();
    assert!(page.contains("Marc Fernandez sent you a gift"), "{page}");
    assert!(page.contains("Thanks for the call!"));
    browser.get(&url).send().await.unwrap();
    browser.get(format!("{url}/open.gif")).send().await.unwrap();
    assert_eq!(
        statuses(&first_send(&app, &shop.token).await),
        ["Sent", "Opened", "Clicked"]
    );

    // Redeem, with the page's token.
    let redeemed = browser
        .post(format!("{url}/redeem"))
        .form(&[("csrf", csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(redeemed.status(), 303);
    assert_eq!(
        redeemed.headers()["location"],
        url.trim_start_matches(&app.address)
    );
    let after = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(after.contains("Your gift is redeemed"), "{after}");
    browser
        .post(format!("{url}/redeem"))
        .form(&[("csrf", csrf_of(&page))])
        .send()
        .await
        .unwrap();
    let send = first_send(&app, &shop.token).await;
    assert_eq!(statuses(&send), ["Sent", "Opened", "Clicked", "Used"]);
    assert_eq!(send["status"], "Used");
}

async fn a_form_without_this_browsers_token_is_refused_and_changes_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (_, _, created) = app
        .post("/api/v3/send", &shop.token, &egift_body(shop.egift), None)
        .await;
    let url = created["tracking_url"].as_str().unwrap().to_owned();

    // Another site posting on the recipient's behalf has no cookie to match.
    let forger = browser();
    let response = forger
        .post(format!("{url}/redeem"))
        .form(&[("csrf", "0123456789abcdef0123456789abcdef")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // A browser with a cookie, but a token that is not its own.
    let victim = browser();
    let page = victim.get(&url).send().await.unwrap().text().await.unwrap();
    let mut wrong = csrf_of(&page);
    wrong.replace_range(0..1, if wrong.starts_with('0') { "1" } else { "0" });
    let response = victim
        .post(format!("{url}/redeem"))
        .form(&[("csrf", wrong)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(first_send(&app, &shop.token).await["status"], "Clicked");
}

async fn user_text_is_escaped(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let mut body = egift_body(shop.egift);
    body["send"]["custom_message"] = serde_json::json!("<script>alert('x')</script> & \"quotes\"");
    let (_, _, created) = app.post("/api/v3/send", &shop.token, &body, None).await;
    let page = browser()
        .get(created["tracking_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("<script>"), "{page}");
    assert!(
        page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"),
        "{page}"
    );
}

async fn unknown_codes_are_a_plain_404(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (_, _, created) = app
        .post("/api/v3/send", &shop.token, &egift_body(shop.egift), None)
        .await;
    let egift_code = created["tracking_code"].as_str().unwrap().to_owned();
    let client = browser();
    let mut bodies = Vec::new();
    for path in [
        "/track/0000000000000000000000000000000000000000".to_owned(),
        "/track/short".to_owned(),
        "/track/ZZZZ".to_owned(),
        format!("/address/{egift_code}"),
        "/address/0000000000000000000000000000000000000000".to_owned(),
    ] {
        let response = client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        bodies.push(response.text().await.unwrap());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every unknown code looks the same"
    );
    let pixel = client
        .get(app.url("/track/0000000000000000000000000000000000000000/open.gif"))
        .send()
        .await
        .unwrap();
    assert_eq!(pixel.status(), 404);
    let post = client
        .post(app.url("/track/0000000000000000000000000000000000000000/redeem"))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert!(post.status() == 403 || post.status() == 404);
}

async fn the_address_page_confirms_or_declines(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (_, _, confirm) = app
        .post(
            "/api/v3/send",
            &shop.token,
            &collection_body(shop.wine, "link"),
            None,
        )
        .await;
    let (_, _, decline) = app
        .post(
            "/api/v3/send",
            &shop.token,
            &collection_body(shop.wine, "link"),
            None,
        )
        .await;
    let browser = browser();

    let url = confirm["address_confirmation_link"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Where should we ship it?"), "{page}");
    assert!(page.contains("Please update your shipping address!"));
    assert!(!page.contains("Wine"), "hide_product_info hides the gift");
    let csrf = csrf_of(&page);
    // A country the touch does not ship to is refused on the form, and changes nothing.
    let form = |country: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("address", "1 Infinite Loop".to_owned()),
            ("city", "Cupertino".to_owned()),
            ("state", "CA".to_owned()),
            ("zip", "95014".to_owned()),
            ("country", country.to_owned()),
            ("mobile_no", String::new()),
        ]
    };
    let refused = browser
        .post(format!("{url}/confirm"))
        .form(&form("FR"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Please choose a country from the list.")
    );
    let done = browser
        .post(format!("{url}/confirm"))
        .form(&form("US"))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let thanks = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(thanks.contains("your gift is on its way"), "{thanks}");
    // Confirming again changes nothing.
    browser
        .post(format!("{url}/confirm"))
        .form(&form("US"))
        .send()
        .await
        .unwrap();

    let url = decline["address_confirmation_link"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = browser
        .post(format!("{url}/decline"))
        .form(&[("csrf", csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);

    let listed = app.all_sends(&shop.token).await;
    assert_eq!(
        statuses(&listed["sends"][0]),
        ["Confirming Address", "Processing"]
    );
    assert_eq!(
        statuses(&listed["sends"][1]),
        ["Confirming Address", "Address Confirmation - Cancelled"]
    );
    let confirmed = app
        .store
        .recipient_send(
            &giftwire_core::TrackingCode::parse(confirm["tracking_code"].as_str().unwrap())
                .unwrap(),
        )
        .await
        .unwrap();
    let address = confirmed
        .delivery
        .address
        .expect("the confirmed address is kept");
    assert_eq!(
        (address.line.as_str(), address.country.as_str()),
        ("1 Infinite Loop", "US")
    );
}

backend_tests!(
    the_egift_page_records_each_step_once,
    a_form_without_this_browsers_token_is_refused_and_changes_nothing,
    user_text_is_escaped,
    unknown_codes_are_a_plain_404,
    the_address_page_confirms_or_declines,
);
