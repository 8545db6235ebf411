//! Our additions for integrations, on both databases: filters on `GET /api/v3/send`, the change
//! feed `GET /api/v3/send/changes` (including a reader syncing while writers create and change
//! sends), and the streaming export `GET /api/v3/send/export`.

use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::sync::Arc;

use giftwire_core::SendId;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, TestOrg, assert_valid, backend_tests, ids, spawn};

/// An organization with sends of two touches (two types), two senders, several statuses, two
/// recipients' addresses and creation times a day apart: returns the org and the ids, oldest
/// first. Send i is created on 2026-03-(i+1) at 12:00 UTC.
///
/// | i | touch     | sender   | recipient           | status      |
/// |---|-----------|----------|---------------------|-------------|
/// | 0 | egift     | user     | a@example.com       | Sent        |
/// | 1 | inventory | teamless | B@Example.com       | pending     |
/// | 2 | egift     | user     | b@example.com       | Opened      |
/// | 3 | inventory | user     | a@example.com       | Processing  |
/// | 4 | egift     | teamless | c@example.com       | Sent        |
/// | 5 | egift     | user     | a@example.com       | pending     |
async fn mixed_org(app: &TestApp, name: &str) -> (TestOrg, Vec<SendId>, i64, i64) {
    let org = app.create_org(name, "America/New_York").await;
    let egift = app
        .create_touch(org.org.id, "Coffee", "eGifts USA", "Coffee", "10")
        .await;
    let inventory = app
        .create_touch(org.org.id, "Mugs", "Inventoried Sends", "Custom", "5")
        .await;
    let rows = [
        (&egift, &org.user, "a@example.com", Some("Sent")),
        (&inventory, &org.teamless, "B@Example.com", None),
        (&egift, &org.user, "b@example.com", Some("Opened")),
        (&inventory, &org.user, "a@example.com", Some("Processing")),
        (&egift, &org.teamless, "c@example.com", Some("Sent")),
        (&egift, &org.user, "a@example.com", None),
    ];
    let mut sends = Vec::new();
    for (i, (touch, sender, email, status)) in rows.into_iter().enumerate() {
        let created = format!("2026-03-{:02}T12:00:00Z", i + 1);
        let id = app
            .create_send(
                org.org.id,
                touch,
                sender,
                ("Recipient", email, None),
                "API",
                &created,
            )
            .await;
        if let Some(status) = status {
            if status == "Opened" {
                app.change_status(org.org.id, id, "Sent", &created, None)
                    .await;
            }
            app.change_status(org.org.id, id, status, &created, None)
                .await;
        }
        sends.push(id);
    }
    (org, sends, egift.id.get(), inventory.id.get())
}

async fn listed(app: &TestApp, org: &TestOrg, query: &str) -> (u16, Value) {
    let (status, _, body) = app.get(&format!("/api/v3/send?{query}"), &org.token).await;
    (status, body)
}

fn expect(sends: &[SendId], picks: &[usize]) -> Vec<i64> {
    picks.iter().map(|&i| sends[i].get()).collect()
}

async fn filters_narrow_the_listing_and_count_exactly(backend: Backend) {
    let app = spawn(backend).await;
    let (org, s, egift, inventory) = mixed_org(&app, "Filters").await;
    // Another organization's sends match the same filters and must never show.
    let (other, _, other_touch, _) = mixed_org(&app, "Elsewhere").await;
    let other_sender = other.user.id.get();
    let user = org.user.id.get();
    let teamless = org.teamless.id.get();
    let cases: Vec<(String, Vec<usize>)> = vec![
        ("status=Sent".into(), vec![0, 4]),
        ("status=Sent&status=pending".into(), vec![0, 1, 4, 5]),
        ("status=Expired".into(), vec![]),
        ("type=Inventoried%20Sends".into(), vec![1, 3]),
        (format!("touch_id={egift}"), vec![0, 2, 4, 5]),
        (format!("touch_id={inventory}&sender_id={user}"), vec![3]),
        (format!("sender_id={teamless}"), vec![1, 4]),
        ("created_after=2026-03-03T12:00:00Z".into(), vec![3, 4, 5]),
        ("created_before=2026-03-03T12:00:00Z".into(), vec![0, 1]),
        // A date is its start in the organization's zone (New York, UTC-5 in March before the
        // 8th): 2026-03-02 starts at 05:00Z, so send 1 (12:00Z on the 2nd) is after it.
        (
            "created_after=2026-03-02&created_before=2026-03-04".into(),
            vec![1, 2],
        ),
        ("recipient_email=b%40example.com".into(), vec![1, 2]),
        (
            "recipient_email=A%40EXAMPLE.COM&status=pending".into(),
            vec![5],
        ),
        ("recipient_email=nobody%40example.com".into(), vec![]),
        // Several alternatives at once (read as a union of index ranges).
        (
            "type=eGifts%20USA&status=Sent&status=pending".into(),
            vec![0, 4, 5],
        ),
        (
            format!("type=eGifts%20USA&status=Sent&status=pending&touch_id={inventory}"),
            vec![],
        ),
        ("type=Amazon".into(), vec![]),
        (
            format!("status=Opened&status=Processing&status=pending&sender_id={user}"),
            vec![2, 3, 5],
        ),
        // Another organization's touch or sender holds none of this one's sends.
        (format!("touch_id={}", other_touch), vec![]),
        (format!("sender_id={}", other_sender), vec![]),
        // Unknown parameters are still ignored (CONTRACT.md §1).
        ("colour=blue".into(), vec![0, 1, 2, 3, 4, 5]),
    ];
    for (query, picks) in cases {
        let (status, body) = listed(&app, &org, &query).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_valid(&body);
        assert_eq!(ids(&body), expect(&s, &picks), "{query}");
        assert_eq!(body["total_count"], picks.len(), "{query}");
    }

    // A filtered listing pages like the plain one, its total exact on every page and past the end.
    let (_, first) = listed(&app, &org, "status=Sent&status=pending&per_page=3").await;
    assert_eq!(ids(&first), expect(&s, &[0, 1, 4]));
    assert_eq!(first["total_count"], 4);
    assert_eq!(first["per_page"], 3);
    let (_, second) = listed(&app, &org, "status=Sent&status=pending&per_page=3&page=2").await;
    assert_eq!(ids(&second), expect(&s, &[5]));
    assert_eq!(second["current_page"], 2);
    for (page, picks) in [(1, vec![0, 4]), (2, vec![5]), (3, vec![])] {
        let (_, body) = listed(
            &app,
            &org,
            &format!("type=eGifts%20USA&status=Sent&status=pending&per_page=2&page={page}"),
        )
        .await;
        assert_eq!(ids(&body), expect(&s, &picks), "page {page}");
        assert_eq!(body["total_count"], 3);
    }
    let (_, past) = listed(&app, &org, "status=Sent&status=pending&per_page=3&page=9").await;
    assert_eq!(ids(&past), Vec::<i64>::new());
    assert_eq!(past["total_count"], 4);

    // A filtered send object is the very object of the plain listing.
    let (_, all) = listed(&app, &org, "").await;
    let (_, opened) = listed(&app, &org, "status=Opened").await;
    assert_eq!(opened["sends"][0], all["sends"][2]);
    assert_eq!(opened["sends"][0]["status"], "Opened");

    // The status filter follows changes.
    app.change_status(org.org.id, s[0], "Opened", "2026-03-10T00:00:00Z", None)
        .await;
    let (_, sent) = listed(&app, &org, "status=Sent").await;
    assert_eq!(ids(&sent), expect(&s, &[4]));
    let (_, opened) = listed(&app, &org, "status=Opened").await;
    assert_eq!(ids(&opened), expect(&s, &[0, 2]));
}

async fn bad_filters_are_400s_naming_what_is_expected(backend: Backend) {
    let app = spawn(backend).await;
    let (org, _, _, _) = mixed_org(&app, "Bad Filters").await;
    for (query, needle) in [
        ("status=sent", "is not a status"),
        ("status=", "is not a status"),
        ("type=eGifts", "is not a send type"),
        ("touch_id=abc", "touch_id must be a positive integer"),
        ("sender_id=0", "sender_id must be a positive integer"),
        (
            "created_after=yesterday",
            "created_after must be an RFC 3339",
        ),
        (
            "created_before=2026-13-01",
            "created_before must be an RFC 3339",
        ),
        ("recipient_email=", "recipient_email must be"),
        (
            "recipient_email=a%00b%40example.com",
            "recipient_email must be",
        ),
        ("created_after=0000-06-01T00:00:00Z", "years 1 and 9999"),
        ("created_before=0000-01-01", "years 1 and 9999"),
        (
            "created_before=-009999-01-01T00:00:00Z",
            "created_before must be",
        ),
        ("type=Amazon&type=Amazon", "type must be given at most once"),
    ] {
        let (status, body) = listed(&app, &org, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["success"], false);
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{query}: {message}");
    }
}

/// Follows the feed from `cursor` until it answers nothing; returns the sends in the order
/// answered and the last cursor.
async fn follow(
    app: &TestApp,
    token: &str,
    mut cursor: Option<String>,
    limit: u32,
) -> (Vec<Value>, String) {
    let mut seen = Vec::new();
    loop {
        let mut path = format!("/api/v3/send/changes?limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&after={c}"));
        }
        let (status, _, body) = app.get(&path, token).await;
        assert_eq!(status, 200, "{body}");
        let sends = body["sends"].as_array().unwrap().clone();
        assert!(sends.len() <= limit as usize);
        let next = body["next_cursor"].as_str().unwrap().to_owned();
        if sends.is_empty() {
            if let Some(c) = &cursor {
                assert_eq!(&next, c, "an empty answer keeps the cursor");
            }
            return (seen, next);
        }
        seen.extend(sends);
        cursor = Some(next);
    }
}

fn feed_ids(sends: &[Value]) -> Vec<i64> {
    sends.iter().map(|s| s["id"].as_i64().unwrap()).collect()
}

async fn the_change_feed_answers_each_change_once_in_order(backend: Backend) {
    let app = spawn(backend).await;
    let (org, s, _, _) = mixed_org(&app, "Feed").await;
    let (other, _, _, _) = mixed_org(&app, "Other Feed").await;

    // From the start: every send once, in the order of their last changes (here creation
    // order, as each was changed right after its creation), the listing's very objects.
    let (seen, cursor) = follow(&app, &org.token, None, 4).await;
    assert_eq!(feed_ids(&seen), expect(&s, &[0, 1, 2, 3, 4, 5]));
    let (_, all) = listed(&app, &org, "").await;
    assert_eq!(Value::Array(seen.clone()), all["sends"]);
    let page = serde_json::json!({
        "current_page": 1, "per_page": 20, "total_count": seen.len(), "sends": seen
    });
    assert_valid(&page);

    // Nothing new: nothing, and the same cursor.
    let (again, same) = follow(&app, &org.token, Some(cursor.clone()), 100).await;
    assert!(again.is_empty());
    assert_eq!(same, cursor);

    // Changes after the cursor come in the order they were made, each send once with its
    // current state, however many times it changed.
    app.change_status(org.org.id, s[4], "Opened", "2026-04-01T00:00:00Z", None)
        .await;
    app.change_status(org.org.id, s[1], "Processing", "2026-04-01T00:00:00Z", None)
        .await;
    app.change_status(org.org.id, s[4], "Clicked", "2026-04-02T00:00:00Z", None)
        .await;
    let (changed, cursor) = follow(&app, &org.token, Some(cursor), 1).await;
    assert_eq!(feed_ids(&changed), expect(&s, &[1, 4]));
    assert_eq!(changed[0]["status"], "Processing");
    assert_eq!(changed[1]["status"], "Clicked");
    assert_eq!(changed[1]["status_updates"].as_array().unwrap().len(), 3);
    let new = app.create_sends(&org, 1).await;
    let (created, _) = follow(&app, &org.token, Some(cursor), 100).await;
    assert_eq!(feed_ids(&created), vec![new[0].get()]);

    // The other organization's feed holds its own sends only.
    let (theirs, _) = follow(&app, &other.token, None, 1000).await;
    assert_eq!(theirs.len(), 6);
    assert!(
        feed_ids(&theirs)
            .iter()
            .all(|id| !s.iter().any(|m| m.get() == *id))
    );
}

async fn feed_cursors_are_tamper_evident_and_limits_bounded(backend: Backend) {
    let app = spawn(backend).await;
    let (org, _, _, _) = mixed_org(&app, "Cursors").await;
    let (other, _, _, _) = mixed_org(&app, "Thief").await;
    let (_, _, body) = app.get("/api/v3/send/changes?limit=2", &org.token).await;
    let cursor = body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(body["sends"].as_array().unwrap().len(), 2);

    // Another organization's token with this cursor: a 400, none of either's sends.
    let (status, _, body) = app
        .get(
            &format!("/api/v3/send/changes?after={cursor}"),
            &other.token,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["success"], false);
    assert!(body["message"].as_str().unwrap().contains("not a cursor"));

    // Every one-character alteration is refused.
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for i in 0..cursor.len() {
        let original = cursor.as_bytes()[i] as char;
        let replacement = alphabet.chars().find(|&c| c != original).unwrap();
        let mut altered = cursor.clone();
        altered.replace_range(i..=i, &replacement.to_string());
        let (status, _, body) = app
            .get(&format!("/api/v3/send/changes?after={altered}"), &org.token)
            .await;
        assert_eq!(status, 400, "{altered}: {body}");
    }
    for bad in ["garbage", "%00", "AAAA"] {
        let (status, _, _) = app
            .get(&format!("/api/v3/send/changes?after={bad}"), &org.token)
            .await;
        assert_eq!(status, 400, "{bad}");
    }

    for (query, expected) in [
        ("limit=0", 400),
        ("limit=1001", 400),
        ("limit=-1", 400),
        ("limit=ten", 400),
        ("limit=1&limit=2", 400),
        ("limit=1000", 200),
        ("after=", 200),
    ] {
        let (status, _, body) = app
            .get(&format!("/api/v3/send/changes?{query}"), &org.token)
            .await;
        assert_eq!(status, expected, "{query}: {body}");
        if expected == 400 {
            assert_eq!(body["success"], false);
        }
    }

    // The feed needs the public scope, like the listing.
    let scim = app.create_token(&org.user, "scim", None).await;
    let (status, _, _) = app.get("/api/v3/send/changes", &scim).await;
    assert_eq!(status, 403);
    let (status, _, _) = app.get("/api/v3/send/changes", "not-a-token").await;
    assert_eq!(status, 401);

    // CONTRACT.md §1: the .json suffix answers the same; the export needs the public scope too.
    let (status, _, plain) = app.get("/api/v3/send/changes?limit=3", &org.token).await;
    let (json_status, _, suffixed) = app
        .get("/api/v3/send/changes.json?limit=3", &org.token)
        .await;
    assert_eq!((status, json_status), (200, 200));
    assert_eq!(plain["sends"], suffixed["sends"]);
    let response = app
        .client
        .get(app.url("/api/v3/send/export.json"))
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap().lines().count(), 6);
    let response = app
        .client
        .get(app.url("/api/v3/send/export"))
        .bearer_auth(&scim)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

/// Writers create sends and change their statuses on several tasks at once while a reader
/// follows the feed over HTTP; once the writers are done and the reader has caught up, its
/// copy is exactly the database's (every send, each in its final state), and it never saw a
/// send again without a new change (its history strictly longer each time).
async fn a_syncing_reader_under_concurrent_writers_ends_with_an_exact_copy(backend: Backend) {
    let app = Arc::new(spawn(backend).await);
    let org = Arc::new(app.create_org("Busy", "UTC").await);
    let touch = app
        .create_touch(org.org.id, "Coffee", "eGifts USA", "Coffee", "1")
        .await;
    const WRITERS: usize = 6;
    const SENDS_EACH: usize = 25;
    let statuses = ["Sent", "Opened", "Clicked", "Used"];
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (app, org, touch) = (app.clone(), org.clone(), touch.clone());
        writers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..SENDS_EACH {
                let created = format!("2026-05-01T00:{:02}:{:02}Z", w, i);
                let id = app
                    .create_send(
                        org.org.id,
                        &touch,
                        &org.user,
                        ("R", &format!("w{w}i{i}@example.com"), None),
                        "API",
                        &created,
                    )
                    .await;
                mine.push(id);
                // Advance an earlier send of this writer, so changes and creations interleave.
                let k = (i * 7) % mine.len();
                let target = mine[k];
                let done = app
                    .store
                    .send(org.org.id, target)
                    .await
                    .unwrap()
                    .history
                    .len();
                if done < statuses.len() {
                    app.change_status(org.org.id, target, statuses[done], &created, None)
                        .await;
                }
            }
        }));
    }

    let mut copy: BTreeMap<i64, Value> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    let mut finished = false;
    loop {
        let done_now = writers.iter().all(|w| w.is_finished());
        let mut path = "/api/v3/send/changes?limit=7".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&after={c}"));
        }
        let (status, _, body) = app.get(&path, &org.token).await;
        assert_eq!(status, 200, "{body}");
        let sends = body["sends"].as_array().unwrap();
        for send in sends {
            let id = send["id"].as_i64().unwrap();
            let length = send["status_updates"].as_array().unwrap().len();
            if let Some(before) = copy.get(&id) {
                let had = before["status_updates"].as_array().unwrap().len();
                assert!(
                    length > had,
                    "send {id} answered again without a new change"
                );
            }
            copy.insert(id, send.clone());
        }
        cursor = Some(body["next_cursor"].as_str().unwrap().to_owned());
        if sends.is_empty() {
            // Caught up after every writer had finished before this call: the copy is final.
            if finished {
                break;
            }
            finished = done_now;
        }
    }
    for w in writers {
        w.await.unwrap();
    }

    let mut truth: BTreeMap<i64, Value> = BTreeMap::new();
    for page in 1.. {
        let (_, body) = listed(&app, &org, &format!("per_page=100&page={page}")).await;
        let sends = body["sends"].as_array().unwrap();
        if sends.is_empty() {
            break;
        }
        for send in sends {
            truth.insert(send["id"].as_i64().unwrap(), send.clone());
        }
    }
    assert_eq!(truth.len(), WRITERS * SENDS_EACH);
    assert_eq!(copy.len(), truth.len(), "the reader missed sends");
    for (id, send) in &truth {
        assert_eq!(copy.get(id), Some(send), "send {id} differs in the copy");
    }
    // The per-status totals (kept with every change) are the counts of the sends.
    for status in ["pending", "Sent", "Opened", "Clicked", "Used"] {
        let expected = truth.values().filter(|s| s["status"] == status).count();
        let (_, body) = listed(&app, &org, &format!("status={status}")).await;
        assert_eq!(body["total_count"], expected, "{status}");
    }
}

backend_tests!(
    filters_narrow_the_listing_and_count_exactly,
    bad_filters_are_400s_naming_what_is_expected,
    the_change_feed_answers_each_change_once_in_order,
    feed_cursors_are_tamper_evident_and_limits_bounded,
    a_syncing_reader_under_concurrent_writers_ends_with_an_exact_copy,
    the_export_streams_the_listings_objects_as_ndjson_and_csv,
);

async fn export(app: &TestApp, token: &str, query: &str, gzip: bool) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v3/send/export?{query}")))
        .bearer_auth(token);
    if gzip {
        request = request.header("Accept-Encoding", "gzip");
    }
    request.send().await.expect("request")
}

async fn the_export_streams_the_listings_objects_as_ndjson_and_csv(backend: Backend) {
    let app = spawn(backend).await;
    let (org, s, _, _) = mixed_org(&app, "Export").await;
    mixed_org(&app, "Not Exported").await;
    // More than one chunk of the export's reads.
    let bulk = app.create_sends(&org, 1200).await;
    let mut all = Vec::new();
    for page in 1.. {
        let (_, body) = listed(&app, &org, &format!("per_page=100&page={page}")).await;
        let sends = body["sends"].as_array().unwrap().clone();
        if sends.is_empty() {
            break;
        }
        all.extend(sends);
    }
    assert_eq!(all.len(), 1206);

    let response = export(&app, &org.token, "", false).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, all);
    assert!(text.ends_with('\n'));

    // Filters as on the listing.
    let response = export(&app, &org.token, "format=ndjson&status=Sent", false).await;
    let filtered: Vec<i64> = response
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(filtered, expect(&s, &[0, 4]));

    // CSV, gzipped on request: a header, one row per send, the history as JSON.
    let response = export(&app, &org.token, "format=csv", true).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let bytes = response.bytes().await.unwrap();
    let mut csv_text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut csv_text)
        .unwrap();
    let mut lines = csv_text.split("\r\n");
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), 20);
    assert_eq!(header[0], "id");
    assert_eq!(header[19], "status_updates");
    let rows: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), all.len());
    let by_column: HashMap<&str, usize> = header.iter().enumerate().map(|(i, h)| (*h, i)).collect();
    // The third send (Opened, two updates): its status and its history's JSON in their columns.
    let third = rows[2];
    assert!(third.starts_with(&format!("{},", s[2].get())), "{third}");
    assert!(third.contains(",Opened,"), "{third}");
    let history = &all[2]["status_updates"];
    let quoted = format!("\"{}\"", history.to_string().replace('"', "\"\""));
    assert!(third.ends_with(&quoted), "{third}");
    assert_eq!(by_column["status"], 6);
    assert!(bulk.iter().all(|id| {
        rows.iter()
            .any(|r| r.starts_with(&format!("{},", id.get())))
    }));

    for (query, needle) in [
        ("format=xml", "format must be ndjson or csv"),
        ("status=nope", "is not a status"),
    ] {
        let response = export(&app, &org.token, query, false).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(needle), "{body}");
    }
    let response = export(&app, "not-a-token", "", false).await;
    assert_eq!(response.status(), 401);
}

/// PostgreSQL commits transactions in any order, so positions taken in one order could become
/// visible in another, and a reader that moved past a later one would never see an earlier one.
/// A change of the organization holds its lock (as the store's writes take it, first) while
/// another send is created: the creation waits for it, the feed shows neither meanwhile, and
/// once the held change commits both come, in commit order. (Without the lock, the creation
/// commits first with a larger position and this test fails.)
#[tokio::test]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "PostgreSQL only: set GIFTWIRE_TEST_POSTGRES_URL to run it"
)]
async fn postgres_changes_of_one_organization_become_visible_in_position_order() {
    let app = Arc::new(spawn(Backend::Postgres).await);
    let org = Arc::new(app.create_org("Late", "UTC").await);
    let first = app.create_sends(&org, 1).await[0];
    let (seen, cursor) = follow(&app, &org.token, None, 100).await;
    assert_eq!(feed_ids(&seen), vec![first.get()]);

    let mut held = <sqlx::PgConnection as sqlx::Connection>::connect(&app.db.url)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut held).await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7348))")
        .bind(org.org.id.get().to_string())
        .execute(&mut held)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE sends SET version = version + 1, change_seq = nextval('send_changes') \
         WHERE id = $1",
    )
    .bind(first.get())
    .execute(&mut held)
    .await
    .unwrap();

    let creating = tokio::spawn({
        let (app, org) = (app.clone(), org.clone());
        async move { app.create_sends(&org, 1).await[0] }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !creating.is_finished(),
        "a creation committed while an earlier change of its organization was open"
    );
    let (early, same) = follow(&app, &org.token, Some(cursor.clone()), 100).await;
    assert!(early.is_empty(), "{early:?}");
    assert_eq!(same, cursor);

    sqlx::query("COMMIT").execute(&mut held).await.unwrap();
    let later = creating.await.unwrap();
    let (both, _) = follow(&app, &org.token, Some(cursor), 100).await;
    assert_eq!(feed_ids(&both), vec![first.get(), later.get()]);
}
