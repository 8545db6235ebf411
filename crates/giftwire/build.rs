//! Marks the parts of the test suite that need something of the machine as runnable when it is
//! there (they are otherwise reported as ignored, with the reason):
//! - `giftwire_pg`: `GIFTWIRE_TEST_POSTGRES_URL` is set (the PostgreSQL half of every test);
//! - `giftwire_root`: the build runs as root, which the reliability suite needs to mount a
//!   small tmpfs and to make files immutable;
//! - `giftwire_browser`: ChromeDriver and Chromium are installed (`GIFTWIRE_CHROMEDRIVER`, or
//!   Debian's `/usr/bin/chromedriver`), for the tests that drive pages in a real browser.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(giftwire_pg)");
    println!("cargo::rustc-check-cfg=cfg(giftwire_root)");
    println!("cargo::rustc-check-cfg=cfg(giftwire_browser)");
    println!("cargo::rerun-if-env-changed=GIFTWIRE_CHROMEDRIVER");
    // Installing a package changes the folder: the check runs again.
    println!("cargo::rerun-if-changed=/usr/bin");
    let driver = std::env::var_os("GIFTWIRE_CHROMEDRIVER")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/chromedriver".into());
    if driver.exists() && std::path::Path::new("/usr/bin/chromium").exists() {
        println!("cargo::rustc-cfg=giftwire_browser");
    }
    println!("cargo::rerun-if-env-changed=GIFTWIRE_TEST_POSTGRES_URL");
    if std::env::var_os("GIFTWIRE_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=giftwire_pg");
    }
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    });
    if root {
        println!("cargo::rustc-cfg=giftwire_root");
    }
}
