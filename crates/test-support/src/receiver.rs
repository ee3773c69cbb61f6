//! A real HTTP receiver on loopback for delivery tests: records every request (method,
//! path, headers, body) and answers 200, or holds every connection without answering.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// How the receiver behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers 200 with an empty JSON object.
    Answer,
    /// Accepts connections and reads requests but never answers.
    Silent,
}

/// A running receiver; it stops taking connections when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    pub requests: mpsc::Receiver<Received>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    /// Listens on a free loopback port.
    pub fn start(behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        Receiver::on(listener, behaviour)
    }

    /// Listens on `addr` (to come back on a port a test kept free).
    pub fn start_at(addr: SocketAddr, behaviour: Behaviour) -> Receiver {
        let listener = TcpListener::bind(addr).expect("bind the receiver's port again");
        Receiver::on(listener, behaviour)
    }

    fn on(listener: TcpListener, behaviour: Behaviour) -> Receiver {
        let addr = listener.local_addr().expect("local addr");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let tx = tx.clone();
                        let stopped = stopped.clone();
                        std::thread::spawn(move || serve(conn, &tx, behaviour, &stopped));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Receiver {
            addr,
            requests: rx,
            stop,
        }
    }

    /// `http://ADDR`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(conn: TcpStream, tx: &mpsc::Sender<Received>, b: Behaviour, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let mut writer = match conn.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut r = BufReader::new(conn);
    while !stop.load(Ordering::SeqCst) {
        let Some(req) = read_request(&mut r, stop) else {
            return;
        };
        if tx.send(req).is_err() {
            return;
        }
        if b == Behaviour::Answer {
            let resp =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
            if writer.write_all(resp.as_bytes()).is_err() {
                return;
            }
        }
    }
}

/// One request; None when the peer closed or the receiver stops.
fn read_request(r: &mut BufReader<TcpStream>, stop: &AtomicBool) -> Option<Received> {
    let mut line = String::new();
    loop {
        match r.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) => break,
            Err(_) if !stop.load(Ordering::SeqCst) => continue,
            Err(_) => return None,
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = r.get_ref().set_read_timeout(Some(Duration::from_secs(5)));
    r.read_exact(&mut body).ok()?;
    let _ = r
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)));
    Some(Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
