//! Balances over real HTTP on both databases: a send draws its cost from its sender's balance in
//! the transaction that creates it, credits and cost changes move it back, a send the balance
//! cannot cover is a 400 that creates nothing, and under concurrent sends and credits a balance
//! is never negative and always the sum of its ledger (and the funds less what the sends cost).

use std::str::FromStr;

use futures::future::join_all;
use giftwire_core::store::{Movement, MovementKind, User};
use giftwire_core::{Amount, Money};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::create::{egift_body, physical_body, shop};
use crate::helpers::{Backend, TestApp, backend_tests, spawn};

backend_tests!(
    a_send_draws_its_cost_and_one_the_balance_cannot_cover_creates_nothing,
    credits_give_the_cost_back_and_repricing_moves_the_difference,
    balances_stay_exact_under_concurrent_sends_and_credits,
    existing_databases_migrate_with_balances_that_cover_their_sends,
);

async fn ledger(app: &TestApp, user: &User) -> (Money, Vec<Movement>) {
    app.store.ledger(user.org_id, user.id).await.unwrap()
}

/// The balance, checked against its ledger: it is the sum of the movements, each movement's
/// `balance` is the running sum, and none is negative.
async fn balance(app: &TestApp, user: &User) -> Decimal {
    let (balance, movements) = ledger(app, user).await;
    let mut running = 0i64;
    for m in &movements {
        running += m.amount.units();
        assert!(running >= 0, "the balance went negative at {m:?}");
        assert_eq!(m.balance.units(), running, "running balance of {m:?}");
    }
    assert_eq!(
        balance.units(),
        running,
        "the balance is the sum of its ledger"
    );
    balance.decimal()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A user of the shop's organization with `funds`, and a token of it that may write and report
/// fulfillment.
async fn sender(
    app: &TestApp,
    org: &crate::helpers::TestOrg,
    email: &str,
    funds: &str,
) -> (User, String) {
    let user = app
        .create_unfunded_user(org.org.id, "Pat Budget", email, Some(org.team))
        .await;
    if funds != "0" {
        app.fund(&user, funds).await;
    }
    let token = app
        .create_token(&user, "public write fulfillment", None)
        .await;
    (user, token)
}

async fn total(app: &TestApp, token: &str) -> i64 {
    let (status, _, body) = app.get("/api/v3/send?per_page=1", token).await;
    assert_eq!(status, 200, "{body}");
    body["total_count"].as_i64().unwrap()
}

async fn a_send_draws_its_cost_and_one_the_balance_cannot_cover_creates_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (user, token) = sender(&app, &shop.org, "pat@acme.example", "30").await;

    let (status, _, body) = app
        .post("/api/v3/send", &token, &egift_body(shop.egift), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(balance(&app, &user).await, dec("5"));
    let (_, movements) = ledger(&app, &user).await;
    let draw = movements.last().unwrap();
    assert_eq!(draw.kind, MovementKind::Send);
    assert_eq!(draw.amount, Amount::draw("25".parse().unwrap()));
    let listed = app.all_sends(&token).await;
    assert_eq!(
        draw.send.unwrap().get(),
        listed["sends"][0]["id"].as_i64().unwrap()
    );

    // 5.0 left: the next eGift (25.0) is refused, with a message that says why, and nothing of
    // it is written (no send, no movement, no mail).
    let mail = || async {
        app.store
            .outbox(Some(user.org_id), 1000)
            .await
            .unwrap()
            .len()
    };
    let mail_before = mail().await;
    let (status, _, body) = app
        .post("/api/v3/send", &token, &egift_body(shop.egift), None)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body,
        json!({"success": false, "message": format!(
            "Insufficient balance: the send costs 25.0, and the balance of user {} is 5.0",
            user.id.get()
        )})
    );
    assert_eq!(total(&app, &token).await, 1);
    assert_eq!(ledger(&app, &user).await.1.len(), 2);
    assert_eq!(mail().await, mail_before);
    assert_eq!(balance(&app, &user).await, dec("5"));

    // A physical send (49.90) the balance cannot cover either.
    let (status, _, body) = app
        .post("/api/v3/send", &token, &physical_body(shop.wine), None)
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("costs 49.9"),
        "{body}"
    );

    // Links for two recipients and money for one: neither link is made.
    app.fund(&user, "20").await;
    let links = json!({"send": {"touch_id": shop.egift, "via": "generate_egift_links",
        "via_from": "Acme CRM", "recipient_users": [{"email": "a@x.example"}, {"email": "b@x.example"}]}});
    let (status, _, body) = app
        .post("/api/v3/send/generate_egift_links", &token, &links, None)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(total(&app, &token).await, 1);
    assert_eq!(balance(&app, &user).await, dec("25"));

    // A replayed request (same Idempotency-Key) is answered again without drawing again.
    for _ in 0..2 {
        let (status, _, body) = app
            .post(
                "/api/v3/send",
                &token,
                &egift_body(shop.egift),
                Some("once"),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(total(&app, &token).await, 2);
    assert_eq!(balance(&app, &user).await, dec("0"));

    // Another organization's sender draws from its own balance only.
    let other = self::shop(&app, "Globex").await;
    let (other_user, other_token) = sender(&app, &other.org, "pat@globex.example", "25").await;
    let (status, _, _) = app
        .post("/api/v3/send", &other_token, &egift_body(other.egift), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(balance(&app, &other_user).await, dec("0"));
    assert_eq!(balance(&app, &user).await, dec("0"));
}

async fn report(
    app: &TestApp,
    token: &str,
    id: i64,
    status: &str,
    at: &str,
    cost: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({"status": status, "occurred_at": at});
    if let Some(cost) = cost {
        body["current_total_cost"] = json!(cost);
    }
    let (code, _, body) = app
        .post(
            &format!("/api/v3/send/{id}/status_updates"),
            token,
            &body,
            None,
        )
        .await;
    (code, body)
}

async fn credits_give_the_cost_back_and_repricing_moves_the_difference(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (user, token) = sender(&app, &shop.org, "pat@acme.example", "100").await;

    let (status, _, body) = app
        .post("/api/v3/send", &token, &physical_body(shop.wine), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let id = app.all_sends(&token).await["sends"][0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(balance(&app, &user).await, dec("50.1"));

    // Fulfillment reprices it up (61.25: 11.35 more is drawn), then down (40.0: 21.25 back).
    let (code, body) = report(
        &app,
        &token,
        id,
        "Processing",
        "2030-01-01T10:00:00Z",
        Some("61.25"),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(balance(&app, &user).await, dec("38.75"));
    let (code, body) = report(
        &app,
        &token,
        id,
        "Packed",
        "2030-01-02T10:00:00Z",
        Some("40"),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(balance(&app, &user).await, dec("60"));
    let kinds: Vec<MovementKind> = ledger(&app, &user).await.1.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MovementKind::Fund,
            MovementKind::Send,
            MovementKind::CostChange,
            MovementKind::CostChange
        ]
    );

    // A new cost the balance cannot cover is refused and the send stays as it was.
    let (code, body) = report(
        &app,
        &token,
        id,
        "Shipped",
        "2030-01-03T10:00:00Z",
        Some("100.01"),
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(
        body["message"],
        format!(
            "Insufficient balance: the new cost needs 60.01, and the balance of user {} is 60.0",
            user.id.get()
        )
    );
    let listed = app.all_sends(&token).await;
    assert_eq!(listed["sends"][0]["status"], "Packed");
    assert_eq!(listed["sends"][0]["current_total_cost"], "40.0");
    assert_eq!(balance(&app, &user).await, dec("60"));

    // Failed, then Refunded: the cost (40.0) comes back in the transaction that records it.
    let (code, _) = report(&app, &token, id, "Failed", "2030-01-04T10:00:00Z", None).await;
    assert_eq!(code, 200);
    assert_eq!(balance(&app, &user).await, dec("60"));
    let (code, _) = report(&app, &token, id, "Refunded", "2030-01-05T10:00:00Z", None).await;
    assert_eq!(code, 200);
    assert_eq!(balance(&app, &user).await, dec("100"));
    let (_, movements) = ledger(&app, &user).await;
    let credit = movements.last().unwrap();
    assert_eq!(
        (credit.kind, credit.amount.to_string()),
        (MovementKind::Credit, "40.0".to_owned())
    );
    assert_eq!(credit.send.unwrap().get(), id);

    // An eGift that bounces is credited too; a refused change (409) moves nothing.
    let (status, _, _) = app
        .post("/api/v3/send", &token, &egift_body(shop.egift), None)
        .await;
    assert_eq!(status, 200);
    let egift = app.all_sends(&token).await["sends"][1]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(balance(&app, &user).await, dec("75"));
    let (code, _) = report(
        &app,
        &token,
        egift,
        "Bounced and Credited",
        "2030-02-01T10:00:00Z",
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(balance(&app, &user).await, dec("100"));
    let (code, _) = report(&app, &token, egift, "Used", "2030-02-02T10:00:00Z", None).await;
    assert_eq!(code, 409);
    assert_eq!(balance(&app, &user).await, dec("100"));
    assert_eq!(ledger(&app, &user).await.1.len(), 7);
}

/// 16 clients at once, with money for 10 sends: exactly 10 are made. Then 10 credits and 16 more
/// creations race: the balance ends at the funds less what the remaining sends cost.
async fn balances_stay_exact_under_concurrent_sends_and_credits(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app, "Acme").await;
    let (user, token) = sender(&app, &shop.org, "pat@acme.example", "250").await;

    let create = || async {
        app.post("/api/v3/send", &token, &egift_body(shop.egift), None)
            .await
    };
    let answers = join_all((0..16).map(|_| create())).await;
    let made = answers.iter().filter(|(s, _, _)| *s == 200).count();
    let refused = answers.iter().filter(|(s, _, _)| *s == 400).count();
    assert_eq!((made, refused), (10, 6), "{answers:?}");
    assert_eq!(total(&app, &token).await, 10);
    assert_eq!(balance(&app, &user).await, dec("0"));

    let ids: Vec<i64> = app.all_sends(&token).await["sends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let (app, token) = (&app, &token);
    // Each credit is reported twice at once: one is recorded, the other refused (the send is
    // final by then), so the cost comes back exactly once.
    let credits = ids.iter().flat_map(|&id| [id, id]).map(|id| async move {
        let (code, body) = report(
            app,
            token,
            id,
            "Bounced and Credited",
            "2031-01-01T00:00:00Z",
            None,
        )
        .await;
        assert!(code == 200 || code == 409, "{code} {body}");
        code
    });
    let creations = (0..16).map(|_| async {
        let (code, _, body) = create().await;
        assert!(code == 200 || code == 400, "{code} {body}");
    });
    let (credited, _) = tokio::join!(join_all(credits), join_all(creations));
    assert_eq!(
        credited.iter().filter(|c| **c == 200).count(),
        10,
        "{credited:?}"
    );
    // Every send drew once; every credited send was credited once.
    let (_, movements) = ledger(app, &user).await;
    for id in &ids {
        let of = |kind| {
            movements
                .iter()
                .filter(|m| m.kind == kind && m.send.map(|s| s.get()) == Some(*id))
                .count()
        };
        assert_eq!(
            (of(MovementKind::Send), of(MovementKind::Credit)),
            (1, 1),
            "send {id}"
        );
    }

    let listed = app.all_sends(token).await;
    let spent: Decimal = listed["sends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| dec(s["current_total_cost"].as_str().unwrap()))
        .sum();
    let now = balance(app, &user).await;
    assert!(now >= Decimal::ZERO);
    assert_eq!(
        now,
        dec("250") - spent,
        "funds less what the sends cost now"
    );
    let made_after = listed["sends"].as_array().unwrap().len() - 10;
    assert!(made_after >= 1, "the credits made room for new sends");
}

/// A database made before balances existed: its migrations up to 0003 only, with sends. Opening
/// it with this version migrates it, and each sender's ledger funds and draws what its sends cost.
async fn existing_databases_migrate_with_balances_that_cover_their_sends(backend: Backend) {
    let db = crate::helpers::TestDb::new(backend).await;
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../giftwire-store/migrations")
        .join(folder);
    let before = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&all).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.as_str() < "0004" {
            std::fs::copy(entry.path(), before.path().join(&name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(before.path()).await.unwrap();
    // Three users: two who sent (one of them twice), one who did not.
    let rows = "INSERT INTO users (id, org_id, name, email, role, created_at) VALUES \
                  (1, 1, 'Ann', 'ann@old.example', 'regular', CREATED), \
                  (2, 1, 'Bo', 'bo@old.example', 'regular', CREATED), \
                  (3, 1, 'Cy', 'cy@old.example', 'regular', CREATED); \
                INSERT INTO touches (id, org_id, name, type, subtype, currency, price, delivery_type, created_at) \
                  VALUES (1, 1, 'eGift', 'eGifts USA', 'eGift Cards USA', 'USD', 25, 'email', CREATED); \
                INSERT INTO sends (org_id, org_seq, id, touch_id, sender_id, recipient_name, recipient_email, \
                                   sent_via, cost, created_at) VALUES \
                  (1, 1, 1, 1, 1, 'R', 'r@x.example', 'API', 19.99, CREATED), \
                  (1, 2, 2, 1, 1, 'R', 'r@x.example', 'API', 0.01, CREATED), \
                  (1, 3, 3, 1, 2, 'R', 'r@x.example', 'API', 25.0, CREATED); \
                UPDATE organizations SET send_count = 3;";
    let org = "INSERT INTO organizations (id, name, time_zone, created_at) VALUES (1, 'Old', 'UTC', CREATED);";
    match backend {
        Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(&db.url)
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            migrator.run(&pool).await.unwrap();
            let sql = format!("{org} {rows}").replace("CREATED", "1700000000");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            let sql = format!("{org} {rows}").replace("CREATED", "to_timestamp(1700000000)");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }

    let store = giftwire_store::open(&db.url, &Default::default())
        .await
        .unwrap();
    let org = giftwire_core::OrgId::new(1);
    let ledger = |user: i64| {
        let store = store.clone();
        async move {
            let (balance, movements) = store
                .ledger(org, giftwire_core::UserId::new(user))
                .await
                .unwrap();
            let lines: Vec<(MovementKind, String)> = movements
                .iter()
                .map(|m| (m.kind, m.amount.to_string()))
                .collect();
            (balance.to_string(), lines)
        }
    };
    assert_eq!(
        ledger(1).await,
        (
            "0.0".to_owned(),
            vec![
                (MovementKind::Opening, "20.0".to_owned()),
                (MovementKind::Send, "-20.0".to_owned())
            ]
        )
    );
    assert_eq!(
        ledger(2).await,
        (
            "0.0".to_owned(),
            vec![
                (MovementKind::Opening, "25.0".to_owned()),
                (MovementKind::Send, "-25.0".to_owned())
            ]
        )
    );
    assert_eq!(ledger(3).await, ("0.0".to_owned(), vec![]));
    // A migrated send that is credited gives its cost back to its sender.
    store
        .change_status(
            org,
            giftwire_core::SendId::new(1),
            giftwire_core::lifecycle::StatusChange {
                status: giftwire_core::SendStatus::BouncedAndCredited,
                occurred_at: jiff::Timestamp::from_second(1_700_000_100).unwrap(),
                cost: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(ledger(1).await.0, "19.99");
}
