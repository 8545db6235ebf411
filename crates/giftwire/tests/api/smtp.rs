//! A real SMTP listener for tests: it speaks enough of RFC 5321 (EHLO, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT) for a real client to deliver to it, keeps what it receives, and can refuse
//! recipients permanently (550) to test bounces, or for now (451) to test retries.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as received: the envelope recipients and the raw data.
#[derive(Debug, Clone)]
pub struct Received {
    pub rcpt_to: Vec<String>,
    pub data: String,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
}

/// How the sink answers each `RCPT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcpt {
    Accept,
    /// 550: the recipient does not exist.
    Reject,
    /// 451: try again later.
    Defer,
    /// Accepts, but hangs up without a word on a recipient containing this text (a server
    /// that chokes on one message).
    HangUpOn(&'static str),
}

impl SmtpSink {
    /// Listens on a free port; `reject` makes every RCPT fail with 550.
    pub async fn start(reject: bool) -> SmtpSink {
        let rcpt = if reject { Rcpt::Reject } else { Rcpt::Accept };
        SmtpSink::start_at("127.0.0.1:0".parse().unwrap(), rcpt).await
    }

    /// Listens on `addr`, answering each RCPT as `rcpt` says.
    pub async fn start_at(addr: SocketAddr, rcpt_reply: Rcpt) -> SmtpSink {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let store = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
                    let mut rcpt = Vec::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_ascii_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250-sink.test\r\n250 8BITMIME\r\n",
                            "MAIL" | "NOOP" => b"250 OK\r\n",
                            "RSET" => {
                                rcpt.clear();
                                b"250 OK\r\n"
                            }
                            "RCPT" if rcpt_reply == Rcpt::Reject => b"550 5.1.1 No such user\r\n",
                            "RCPT" if rcpt_reply == Rcpt::Defer => b"451 4.3.0 Try again later\r\n",
                            "RCPT" if matches!(rcpt_reply, Rcpt::HangUpOn(text) if line.contains(text)) =>
                            {
                                break;
                            }
                            "RCPT" => {
                                rcpt.push(
                                    line[line.find('<').unwrap_or(0)..]
                                        .trim_matches(['<', '>'])
                                        .to_owned(),
                                );
                                b"250 OK\r\n"
                            }
                            "DATA" => {
                                let _ = write
                                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                                    .await;
                                let mut data = String::new();
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                    data.push_str(&l);
                                    data.push('\n');
                                }
                                store.lock().unwrap().push(Received {
                                    rcpt_to: std::mem::take(&mut rcpt),
                                    data,
                                });
                                b"250 OK: queued\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 Bye\r\n").await;
                                break;
                            }
                            _ => b"502 Command not implemented\r\n",
                        };
                        if write.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        SmtpSink { addr, received }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
