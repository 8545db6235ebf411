//! Marks the PostgreSQL half of the test suite as runnable when `GIFTWIRE_TEST_POSTGRES_URL` is
//! set (it is otherwise reported as ignored, with the reason).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(giftwire_pg)");
    println!("cargo::rerun-if-env-changed=GIFTWIRE_TEST_POSTGRES_URL");
    if std::env::var_os("GIFTWIRE_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=giftwire_pg");
    }
}
