//! The sign-in and consent pages in a real browser: Chromium, driven over WebDriver (ChromeDriver,
//! by the fantoccini crate), authorizes an application the way a person does, and the client
//! exchanges the code the browser brought back. Runs where ChromeDriver and Chromium are installed
//! (`apt install chromium chromium-driver`, as `.ci/run` does); reported as ignored elsewhere. On
//! SQLite only: what a browser sees does not depend on the database.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::{Backend, spawn};
use crate::oauth::{PASSWORD, register, with_password};

/// ChromeDriver on a port of its own, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn browser() -> (Driver, Client) {
    let port = free_port();
    let binary = std::env::var("GIFTWIRE_CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into());
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ChromeDriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempfile::tempdir().unwrap(),
    };
    let started = Instant::now();
    while reqwest::get(format!("{}/status", driver.url))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "ChromeDriver did not answer"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The flags keep Chromium off the network it has no business with (this machine's network
    // is closed, and its background requests would be refused many at a time).
    let profile = driver._profile.path().display().to_string();
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={profile}"),
            ],
        }
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session");
    (driver, client)
}

/// Waits until the browser's address satisfies `arrived`, and returns it.
async fn wait_for_url(browser: &Client, arrived: impl Fn(&url::Url) -> bool) -> url::Url {
    let started = Instant::now();
    loop {
        let url = browser.current_url().await.unwrap();
        if arrived(&url) {
            return url;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still at {url}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
#[cfg_attr(
    not(giftwire_browser),
    ignore = "needs Chromium and ChromeDriver: apt install chromium chromium-driver"
)]
async fn a_person_signs_in_and_authorizes_an_application_in_chromium() {
    let app = spawn(Backend::Sqlite).await;
    let org = app.create_org("Initech", "UTC").await;
    with_password(&app, &org.user).await;
    let callback = app.url("/oauth/callback");
    let client = register(&app, &org, "Pipeline CRM", &callback, "public write", true).await;
    let (_driver, browser) = browser().await;

    let authorize: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", &callback)
        .append_pair("response_type", "code")
        .append_pair("scope", "public write")
        .append_pair("state", "xyz 123")
        .finish();
    browser
        .goto(&app.url(&format!("/oauth/authorize?{authorize}")))
        .await
        .unwrap();
    // Not signed in: the sign-in page, which brings the person back.
    wait_for_url(&browser, |u| u.path() == "/sign_in").await;
    let email = browser
        .find(Locator::Css("input[name=email]"))
        .await
        .unwrap();
    email.send_keys(&org.user.email).await.unwrap();
    let password = browser
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap();
    password.send_keys(PASSWORD).await.unwrap();
    browser
        .find(Locator::Css("form[action='/sign_in'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The consent page names the application, its organization and each scope.
    wait_for_url(&browser, |u| u.path() == "/oauth/authorize").await;
    let allow = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("button[name=decision][value=allow]"))
        .await
        .unwrap();
    let page = browser
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in ["Pipeline CRM", "Initech", "public", "write"] {
        assert!(
            page.contains(expected),
            "{expected:?} not on the consent page: {page}"
        );
    }
    allow.click().await.unwrap();

    // Allowed: the browser goes to the client with the code and the state.
    let back = wait_for_url(&browser, |u| u.path() == "/oauth/callback").await;
    let params: HashMap<String, String> = back.query_pairs().into_owned().collect();
    assert_eq!(params.get("state").map(String::as_str), Some("xyz 123"));
    let code = params.get("code").expect("a code").clone();

    // The client exchanges it and reads the organization's sends.
    let tokens: Value = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &callback),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["scope"], "public write", "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let listing = app
        .client
        .get(app.url("/api/v3/send"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 200);

    // Signing out from the page ends the session: authorizing asks for a sign-in again.
    browser.goto(&app.url("/sign_in")).await.unwrap();
    browser
        .find(Locator::Css("form[action='/sign_out'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The page signed out from is /sign_in too: wait for the form, not for the address.
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("input[name=password]"))
        .await
        .expect("the sign-in form again");
    browser
        .goto(&app.url(&format!("/oauth/authorize?{authorize}")))
        .await
        .unwrap();
    wait_for_url(&browser, |u| u.path() == "/sign_in").await;
    browser.close().await.unwrap();
}

/// `/docs` renders in Chromium from the binary's own files: Swagger UI shows every operation of
/// `/openapi.json` (the browser's network is the loopback only, so nothing came from a CDN).
#[tokio::test]
#[cfg_attr(
    not(giftwire_browser),
    ignore = "needs Chromium and ChromeDriver: apt install chromium chromium-driver"
)]
async fn the_api_documentation_renders_in_chromium() {
    let app = spawn(Backend::Sqlite).await;
    let doc: Value = app
        .get_raw("/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    let (_driver, browser) = browser().await;
    browser.goto(&app.url("/docs")).await.unwrap();
    wait_for_url(&browser, |u| u.path() == "/docs/").await;
    let started = Instant::now();
    let shown = loop {
        let shown = browser
            .find_all(Locator::Css(".opblock"))
            .await
            .unwrap()
            .len();
        if shown >= operations || started.elapsed() > Duration::from_secs(20) {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(shown, operations, "operations Swagger UI shows");
    let title = browser
        .find(Locator::Css(".info .title"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(title.starts_with("giftwire"), "{title}");
    browser.close().await.unwrap();
}
