//! Tenant isolation (CONTRACT.md §3), as a property: whatever organizations exist and however
//! their sends interleave, each token lists exactly its organization's sends.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::helpers::{Backend, assert_valid, ids, spawn};

async fn check(
    backend: Backend,
    sends_per_round: Vec<Vec<u8>>,
    per_page: u8,
    zones: Vec<&'static str>,
) {
    let app = spawn(backend).await;
    let mut orgs = Vec::new();
    for (i, tz) in zones.iter().enumerate() {
        orgs.push(app.create_org(&format!("Org {i}"), tz).await);
    }
    let mut expected: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
    for round in &sends_per_round {
        for (i, n) in round.iter().enumerate().take(orgs.len()) {
            let created = app.create_sends(&orgs[i], usize::from(*n)).await;
            expected
                .entry(i)
                .or_default()
                .extend(created.iter().map(|s| s.get()));
        }
    }
    for (i, org) in orgs.iter().enumerate() {
        let mut seen = Vec::new();
        for page in 1.. {
            let (status, _, body) = app
                .get(
                    &format!("/api/v3/send?per_page={per_page}&page={page}"),
                    &org.token,
                )
                .await;
            assert_eq!(status, 200);
            assert_valid(&body);
            let want = expected.get(&i).map_or(0, Vec::len);
            assert_eq!(body["total_count"], want as u64);
            let page_ids = ids(&body);
            if page_ids.is_empty() {
                break;
            }
            for send in body["sends"].as_array().unwrap() {
                assert_eq!(
                    send["recipient"]["email"]
                        .as_str()
                        .map(|e| e.ends_with("@example.com")),
                    Some(true)
                );
                assert!(
                    send["sender"]["email"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!("@Org{i}.example"))
                );
            }
            seen.extend(page_ids);
        }
        assert_eq!(
            seen,
            expected.get(&i).cloned().unwrap_or_default(),
            "organization {i}"
        );
    }
}

fn layouts() -> impl Strategy<Value = (Vec<Vec<u8>>, u8, Vec<&'static str>)> {
    (
        prop::collection::vec(prop::collection::vec(0u8..6, 2..5), 1..4),
        1u8..8,
        prop::collection::vec(
            prop::sample::select(vec![
                "UTC",
                "America/Los_Angeles",
                "Asia/Tokyo",
                "Europe/London",
            ]),
            2..5,
        ),
    )
}

fn run(backend: Backend, (rounds, per_page, zones): (Vec<Vec<u8>>, u8, Vec<&'static str>)) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(check(backend, rounds, per_page, zones));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn no_organization_ever_sees_another_ones_sends_on_sqlite(layout in layouts()) {
        run(Backend::Sqlite, layout);
    }

    #[test]
    #[cfg_attr(not(giftwire_pg), ignore = "PostgreSQL half: set GIFTWIRE_TEST_POSTGRES_URL to run it")]
    fn no_organization_ever_sees_another_ones_sends_on_postgres(layout in layouts()) {
        run(Backend::Postgres, layout);
    }
}
