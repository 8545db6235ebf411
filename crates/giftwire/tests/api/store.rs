//! The store's own contract, on both backends: concurrency (pages never skip or repeat a send and
//! the total never drifts while sends are created; two changes of one send never both apply),
//! page versions, and tenant checks of every write.

use std::sync::Arc;

use giftwire_core::lifecycle::{StatusChange, StatusEntry};
use giftwire_core::store::{NewSend, Recipient, SeedSend};
use giftwire_core::{LifecycleError, Money, PageRequest, SendId, Store, StoreError};

use crate::helpers::{Backend, at, backend_tests, spawn};

fn new_send(touch: giftwire_core::TouchId, sender: giftwire_core::UserId, n: usize) -> NewSend {
    NewSend {
        touch,
        sender,
        recipient: Recipient {
            name: format!("R {n}"),
            email: format!("r{n}@example.com"),
            company_name: None,
        },
        sent_via: "API".to_owned(),
        created_at: at("2024-01-01T00:00:00Z"),
        cost: None,
    }
}

async fn concurrent_creation_never_skips_repeats_or_drifts(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let other = app.create_org("Globex", "UTC").await;
    let touch = app
        .create_touch(org.org.id, "T", "eGifts USA", "Coffee", "5")
        .await;
    let other_touch = app
        .create_touch(other.org.id, "T", "eGifts USA", "Coffee", "5")
        .await;
    let store: Arc<dyn Store> = app.store.clone();
    const PER_PAGE: u32 = 7;

    let mut writers = Vec::new();
    for w in 0..4usize {
        let store = store.clone();
        let (org_id, user, touch, other_id, other_user, other_touch) = (
            org.org.id,
            org.user.id,
            touch.id,
            other.org.id,
            other.user.id,
            other_touch.id,
        );
        writers.push(tokio::spawn(async move {
            for n in 0..25 {
                store
                    .create_send(org_id, new_send(touch, user, w * 100 + n))
                    .await
                    .unwrap();
                // Another organization's sends interleave in id order.
                store
                    .create_send(other_id, new_send(other_touch, other_user, n))
                    .await
                    .unwrap();
            }
        }));
    }
    let reader = {
        let store = store.clone();
        let org_id = org.org.id;
        tokio::spawn(async move {
            let mut snapshots = Vec::new();
            for round in 0..60u32 {
                let page = PageRequest::new(round % 5 + 1, PER_PAGE);
                let listed = store.list_sends(org_id, page).await.unwrap();
                snapshots.push((
                    page,
                    listed.total(),
                    listed.sends.iter().map(|s| s.id).collect::<Vec<_>>(),
                ));
                tokio::task::yield_now().await;
            }
            snapshots
        })
    };
    for w in writers {
        w.await.unwrap();
    }
    let snapshots = reader.await.unwrap();

    let everything = store
        .list_sends(org.org.id, PageRequest::new(1, 100))
        .await
        .unwrap();
    assert_eq!(everything.total(), 100);
    let all: Vec<SendId> = everything.sends.iter().map(|s| s.id).collect();
    assert!(all.windows(2).all(|w| w[0] < w[1]), "ids ascend: {all:?}");
    for (page, total, ids) in snapshots {
        let start = page.offset() as usize;
        let end = (start + PER_PAGE as usize).min(total as usize).max(start);
        let expected = if start < total as usize {
            &all[start..end]
        } else {
            &[][..]
        };
        assert_eq!(ids, expected, "page {} with total {total}", page.page());
    }
}

async fn two_changes_of_one_send_never_both_apply(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let touch = app
        .create_touch(org.org.id, "T", "eGifts USA", "Coffee", "5")
        .await;
    let send = app
        .store
        .create_send(org.org.id, new_send(touch.id, org.user.id, 1))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for status in ["Sent", "Sent", "Cancelled", "Sent"] {
        let store = app.store.clone();
        let org_id = org.org.id;
        tasks.push(tokio::spawn(async move {
            store
                .change_status(
                    org_id,
                    send.id,
                    StatusChange {
                        status: status.parse().unwrap(),
                        occurred_at: at("2024-01-02T00:00:00Z"),
                        cost: None,
                    },
                )
                .await
        }));
    }
    let mut applied = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => applied += 1,
            Err(StoreError::Lifecycle(LifecycleError::NotAllowed { .. })) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(applied, 1);
    let after = app.store.send(org.org.id, send.id).await.unwrap();
    assert_eq!(after.history.len(), 1);
}

async fn a_page_version_moves_with_its_content_only(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let ids = app.create_sends(&org, 6).await;
    let first = PageRequest::new(1, 3);
    let second = PageRequest::new(2, 3);
    let v1 = app.store.page_version(org.org.id, first).await.unwrap();
    let v2 = app.store.page_version(org.org.id, second).await.unwrap();
    assert_eq!(v1.total, 6);
    app.change_status(org.org.id, ids[4], "Sent", "2024-02-01T00:00:00Z", None)
        .await;
    assert_eq!(
        app.store.page_version(org.org.id, first).await.unwrap(),
        v1,
        "page 1 did not change"
    );
    let v2_after = app.store.page_version(org.org.id, second).await.unwrap();
    assert_ne!(v2_after, v2, "page 2 changed");
    let listed = app.store.list_sends(org.org.id, second).await.unwrap();
    assert_eq!(listed.version, v2_after);
    app.create_sends(&org, 1).await;
    assert_eq!(
        app.store
            .page_version(org.org.id, first)
            .await
            .unwrap()
            .total,
        7
    );
}

async fn writes_never_cross_organizations(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let acme_touch = app
        .create_touch(acme.org.id, "T", "eGifts USA", "Coffee", "5")
        .await;
    let acme_send = app.create_sends(&acme, 1).await[0];

    // A send of Globex cannot use Acme's touch or be sent by Acme's user.
    let err = app
        .store
        .create_send(globex.org.id, new_send(acme_touch.id, globex.user.id, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("Touch")), "{err}");
    let globex_touch = app
        .create_touch(globex.org.id, "T", "eGifts USA", "Coffee", "5")
        .await;
    let err = app
        .store
        .create_send(globex.org.id, new_send(globex_touch.id, acme.user.id, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("User")), "{err}");
    // Globex cannot read or change Acme's send.
    assert!(matches!(
        app.store.send(globex.org.id, acme_send).await,
        Err(StoreError::NotFound("Send"))
    ));
    let change = StatusChange {
        status: "Sent".parse().unwrap(),
        occurred_at: at("2024-03-01T00:00:00Z"),
        cost: None,
    };
    let err = app
        .store
        .change_status(globex.org.id, acme_send, change)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("Send")), "{err}");
    assert!(
        app.store
            .send(acme.org.id, acme_send)
            .await
            .unwrap()
            .history
            .is_empty()
    );
    // A user of Globex cannot join Acme's team.
    let err = app
        .store
        .create_user(
            globex.org.id,
            giftwire_core::store::NewUser::new(
                giftwire_core::Name::parse("name", "Eve").unwrap(),
                giftwire_core::Email::parse("email", "eve@globex.example").unwrap(),
                Some(acme.team),
                giftwire_core::Role::Regular,
            ),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("Team")), "{err}");
    // A bulk load naming another organization's touch writes nothing.
    let seed = SeedSend {
        send: new_send(acme_touch.id, globex.user.id, 9),
        cost: Money::ZERO,
        history: vec![StatusEntry {
            status: "Sent".parse().unwrap(),
            occurred_at: at("2024-01-01T00:00:01Z"),
        }],
        egift_expires_at: None,
        fund: false,
    };
    let err = app
        .store
        .bulk_load(globex.org.id, vec![seed])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("Touch")), "{err}");
    assert_eq!(app.store.org(globex.org.id).await.unwrap().send_count, 0);
    assert_eq!(
        app.store
            .list_sends(globex.org.id, PageRequest::new(1, 10))
            .await
            .unwrap()
            .total(),
        0
    );
}

async fn emails_are_unique_per_organization_whatever_their_case(backend: Backend) {
    let app = spawn(backend).await;
    let acme = app.create_org("Acme", "UTC").await;
    let globex = app.create_org("Globex", "UTC").await;
    let new = |email: &str| {
        giftwire_core::store::NewUser::new(
            giftwire_core::Name::parse("name", "Ann").unwrap(),
            giftwire_core::Email::parse("email", email).unwrap(),
            None,
            giftwire_core::Role::Regular,
        )
    };
    app.store
        .create_user(acme.org.id, new("ann@example.com"))
        .await
        .unwrap();
    let err = app
        .store
        .create_user(acme.org.id, new("ANN@Example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    app.store
        .create_user(globex.org.id, new("ann@example.com"))
        .await
        .unwrap();
}

async fn bulk_loads_append_in_order_with_their_histories(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "America/Los_Angeles").await;
    let touch = app
        .create_touch(org.org.id, "T", "Sendoso Direct", "Wine", "20")
        .await;
    let single = app.create_sends(&org, 1).await[0];
    let sends: Vec<SeedSend> = (0..1200)
        .map(|n| SeedSend {
            send: NewSend {
                recipient: Recipient {
                    name: format!("Zoë O'Brien\\t{n}"),
                    email: format!("z{n}@example.com"),
                    company_name: (n % 3 == 0).then(|| "Tab\\tand\nnewline".to_owned()),
                },
                ..new_send(touch.id, org.user.id, n)
            },
            cost: "25.5".parse().unwrap(),
            history: vec![
                StatusEntry {
                    status: "Processing".parse().unwrap(),
                    occurred_at: at("2024-01-02T00:00:00Z"),
                },
                StatusEntry {
                    status: "Packed".parse().unwrap(),
                    occurred_at: at("2024-01-03T00:00:00Z"),
                },
            ],
            egift_expires_at: None,
            fund: false,
        })
        .collect();
    let loaded = app.store.bulk_load(org.org.id, sends).await.unwrap();
    assert_eq!((loaded.sends, loaded.status_updates), (1200, 2400));
    let page = app
        .store
        .list_sends(org.org.id, PageRequest::new(1, 100))
        .await
        .unwrap();
    assert_eq!(page.total(), 1201);
    assert_eq!(page.sends[0].id, single);
    assert!(page.sends.windows(2).all(|w| w[0].id < w[1].id));
    let loaded_one = &page.sends[1];
    assert_eq!(loaded_one.recipient.name, "Zoë O'Brien\\t0");
    assert_eq!(
        loaded_one.recipient.company_name.as_deref(),
        Some("Tab\\tand\nnewline")
    );
    assert_eq!(loaded_one.cost.to_string(), "25.5");
    assert_eq!(loaded_one.history.len(), 2);
    let last = app
        .store
        .list_sends(org.org.id, PageRequest::new(13, 100))
        .await
        .unwrap();
    assert_eq!(last.sends.len(), 1);
    // The status of a loaded send changes through the lifecycle like any other.
    app.change_status(
        org.org.id,
        last.sends[0].id,
        "Shipped",
        "2024-01-04T00:00:00Z",
        None,
    )
    .await;
}

/// Seeded eGifts still waiting for their recipients carry their deadlines: the worker's store
/// operations find and apply the due one, and leave the other for later.
async fn bulk_loaded_egifts_expire_when_due(backend: Backend) {
    let app = spawn(backend).await;
    let org = app.create_org("Acme", "UTC").await;
    let touch = app
        .create_touch(org.org.id, "T", "eGifts USA", "Coffee", "5")
        .await;
    let seed = |n: usize, expires: &str| SeedSend {
        send: new_send(touch.id, org.user.id, n),
        cost: "5".parse().unwrap(),
        history: vec![StatusEntry {
            status: "Sent".parse().unwrap(),
            occurred_at: at("2024-01-01T00:00:00Z"),
        }],
        egift_expires_at: Some(at(expires)),
        fund: false,
    };
    app.store
        .bulk_load(
            org.org.id,
            vec![
                seed(1, "2024-03-31T00:00:00Z"),
                seed(2, "2024-06-30T00:00:00Z"),
            ],
        )
        .await
        .unwrap();
    let now = at("2024-04-01T00:00:00Z");
    let due = app.store.due_deadlines(now, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let expired = app
        .store
        .apply_deadline(&due[0], now)
        .await
        .unwrap()
        .expect("applied");
    assert_eq!(expired.status().as_str(), "Expired");
    assert!(app.store.due_deadlines(now, 10).await.unwrap().is_empty());
    assert_eq!(
        app.store
            .due_deadlines(at("2024-07-01T00:00:00Z"), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

backend_tests!(
    bulk_loaded_egifts_expire_when_due,
    concurrent_creation_never_skips_repeats_or_drifts,
    two_changes_of_one_send_never_both_apply,
    a_page_version_moves_with_its_content_only,
    writes_never_cross_organizations,
    emails_are_unique_per_organization_whatever_their_case,
    bulk_loads_append_in_order_with_their_histories,
);

/// With a read replica, the listing reads the replica and writes go to the primary. Two schemas
/// stand for the two servers, so a write that "has not replicated yet" is visible in one only.
#[tokio::test]
#[cfg_attr(
    not(giftwire_pg),
    ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it"
)]
async fn with_a_replica_listings_read_the_replica_and_writes_go_to_the_primary() {
    use giftwire_core::store::{NewOrg, NewTouch};
    use giftwire_core::{DeliveryType, Name, OrgTimeZone};

    let primary_db = crate::db::TestDb::new(Backend::Postgres).await;
    let replica_db = crate::db::TestDb::new(Backend::Postgres).await;
    let alone = giftwire_store::open(&primary_db.url, &Default::default())
        .await
        .unwrap();
    let replica = giftwire_store::open(&replica_db.url, &Default::default())
        .await
        .unwrap();
    // The same organization, touch and sender on both, and one send: replicated state.
    for store in [&alone, &replica] {
        let org = store
            .create_org(NewOrg {
                name: Name::parse("name", "Acme").unwrap(),
                time_zone: OrgTimeZone::utc(),
                egift_expiry_days: 90,
            })
            .await
            .unwrap();
        let user = store
            .create_user(
                org.id,
                giftwire_core::store::NewUser::new(
                    Name::parse("name", "Ann").unwrap(),
                    giftwire_core::Email::parse("email", "ann@acme.example").unwrap(),
                    None,
                    giftwire_core::Role::Regular,
                ),
            )
            .await
            .unwrap();
        let funds = giftwire_core::store::NewMovement {
            user: user.id,
            kind: giftwire_core::store::MovementKind::Fund,
            amount: "100".parse().unwrap(),
            send: None,
            note: None,
            at: jiff::Timestamp::now(),
        };
        store.fund(org.id, vec![funds]).await.unwrap();
        let touch = store
            .create_touch(
                org.id,
                NewTouch {
                    name: Name::parse("name", "T").unwrap(),
                    send_type: "eGifts USA".parse().unwrap(),
                    subtype: "Coffee".parse().unwrap(),
                    currency: "USD".parse().unwrap(),
                    price: "5".parse().unwrap(),
                    delivery_type: DeliveryType::Email,
                    starts_on: None,
                    ends_on: None,
                    active: true,
                    ship_to: giftwire_core::ShipTo::parse("US,CA").unwrap(),
                    details: Default::default(),
                },
            )
            .await
            .unwrap();
        store
            .create_send(org.id, new_send(touch.id, user.id, 1))
            .await
            .unwrap();
    }
    let options = giftwire_store::StoreOptions {
        read_replica_url: Some(replica_db.url.clone()),
        ..Default::default()
    };
    let routed = giftwire_store::open(&primary_db.url, &options)
        .await
        .unwrap();
    let org = giftwire_core::OrgId::new(1);
    let touch = giftwire_core::TouchId::new(1);
    let user = giftwire_core::UserId::new(1);
    let created = routed
        .create_send(org, new_send(touch, user, 2))
        .await
        .unwrap();

    let page = PageRequest::new(1, 10);
    assert_eq!(
        alone.list_sends(org, page).await.unwrap().total(),
        2,
        "the write went to the primary"
    );
    assert_eq!(
        routed.list_sends(org, page).await.unwrap().total(),
        1,
        "the listing read the replica"
    );
    assert_eq!(routed.page_version(org, page).await.unwrap().total, 1);
    assert!(matches!(
        routed.send(org, created.id).await,
        Err(StoreError::NotFound("Send"))
    ));
    assert_eq!(
        routed.org(org).await.unwrap().send_count,
        2,
        "admin reads stay on the primary"
    );

    // SQLite has no replicas.
    let err = giftwire_store::open("sqlite::memory:", &options)
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("read replicas need PostgreSQL"),
        "{err}"
    );
}
