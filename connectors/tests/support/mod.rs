//! A scripted HTTP/1.1 server on 127.0.0.1:0 for connector tests: each request is handed to a
//! closure that decides the reply, including replies that misbehave (a body that never ends, an
//! oversized body, a dropped connection). Hand-rolled on tokio so a test controls the bytes.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// What to answer.
pub enum Reply {
    /// A normal response.
    Full { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Headers and the start of a body, then silence forever.
    Hang,
    /// The connection accepted, the request read, and not one byte back.
    Silent,
    /// A chunked body of `bytes` bytes, with no Content-Length up front.
    Stream { bytes: usize },
    /// Close the connection without answering.
    Drop,
}

impl Reply {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn text(status: u16, content_type: &str, body: &str) -> Self {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// Starts the server; returns its base URL (`http://127.0.0.1:PORT`).
pub async fn serve(handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_owned();
                    let path = parts.next().unwrap_or_default().to_owned();
                    let mut headers = HashMap::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':') {
                            headers.insert(k.trim().to_lowercase(), v.trim().to_owned());
                        }
                    }
                    let length = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let request = Request { method, path, headers, body };
                    match handler(&request) {
                        Reply::Full { status, headers, body } => {
                            let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                            for (k, v) in headers {
                                head.push_str(&format!("{k}: {v}\r\n"));
                            }
                            head.push_str("\r\n");
                            if write.write_all(head.as_bytes()).await.is_err() || write.write_all(&body).await.is_err()
                            {
                                return;
                            }
                        }
                        Reply::Silent => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                        Reply::Hang => {
                            let _ =
                                write.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"data\": [").await;
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                        Reply::Stream { bytes } => {
                            let _ = write.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await;
                            let chunk = vec![b'a'; 64 * 1024];
                            let mut sent = 0;
                            while sent < bytes {
                                let n = chunk.len().min(bytes - sent);
                                let frame = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
                                if write.write_all(&frame).await.is_err() {
                                    return;
                                }
                                sent += n;
                            }
                            let _ = write.write_all(b"0\r\n\r\n").await;
                        }
                        Reply::Drop => return,
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}
