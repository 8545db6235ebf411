//! HTTP clients for the tests. reqwest is built with rustls and no default provider (the
//! server's webhook client brings ring), so the provider is installed before any client.

pub fn builder() -> reqwest::ClientBuilder {
    giftwire_server::webhooks::install_tls();
    reqwest::ClientBuilder::new()
}

pub fn client() -> reqwest::Client {
    builder().build().expect("an HTTP client")
}
