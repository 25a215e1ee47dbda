//! The socket as hyper sees it, and the bodies of our responses as hyper writes them.
//!
//! hyper answers a request head it cannot parse by itself (400, 414 URI too long, 431 head
//! too large: `proto::h1::role::Server::on_error`), before any middleware runs, so the
//! guard's headers never reach those answers. `Wire` adds them: it knows from `Conn` when
//! no request of ours is in hand, and anything hyper writes then is such an answer (hyper
//! reads the next head only after flushing the previous response, and writes its own
//! answer as the connection's last bytes). The answer is a head only, a few hundred bytes;
//! `Wire` inserts the headers after its status line.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::connections::Conn;
use super::guard;

pub struct Wire<T> {
    inner: T,
    conn: Arc<Conn>,
    /// hyper's own answer, headers added, and how much of it is written.
    own_answer: Option<OwnAnswer>,
}

struct OwnAnswer {
    bytes: Vec<u8>,
    written: usize,
    /// Whether the guard's headers are in (after the status line's CRLF).
    headed: bool,
}

impl<T> Wire<T> {
    pub fn new(inner: T, conn: Arc<Conn>) -> Wire<T> {
        Wire { inner, conn, own_answer: None }
    }
}

impl OwnAnswer {
    fn take(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        if self.headed {
            return;
        }
        if let Some(end) = self.bytes.windows(2).position(|w| w == b"\r\n") {
            let extra: String = guard::HEADERS.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
            self.bytes.splice(end + 2..end + 2, extra.into_bytes());
            self.headed = true;
        }
    }
}

impl<T: AsyncWrite + Unpin> Wire<T> {
    /// Writes what is held of hyper's own answer; ready once it is all out.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(answer) = self.own_answer.as_mut() else { return Poll::Ready(Ok(())) };
        while answer.written < answer.bytes.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &answer.bytes[answer.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            answer.written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Whether these bytes are hyper's own answer rather than one of our responses.
    fn own(&mut self) -> bool {
        if self.own_answer.is_none() && self.conn.between_requests() {
            self.own_answer = Some(OwnAnswer { bytes: Vec::new(), written: 0, headed: false });
        }
        self.own_answer.is_some()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Wire<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Wire<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if !this.own() {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        if let Some(answer) = this.own_answer.as_mut() {
            answer.take(buf);
        }
        // Taken whole: hyper flushes (or shuts down) next, which writes it out.
        let _ = this.poll_drain(cx)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if !this.own() {
            return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        }
        let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        Pin::new(this).poll_write(cx, &joined)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        this.conn.flushed();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// A response body that tells its connection when hyper is done with it.
pub struct Tracked {
    inner: Body,
    conn: Arc<Conn>,
}

impl Tracked {
    pub fn new(inner: Body, conn: Arc<Conn>) -> Tracked {
        Tracked { inner, conn }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.conn.finish();
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_headers_follow_the_status_line_however_the_head_arrives() {
        for split in [1, 10, 44, 45, 46, 60] {
            let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
            let mut answer = OwnAnswer { bytes: Vec::new(), written: 0, headed: false };
            answer.take(&head[..split]);
            answer.take(&head[split..]);
            let text = String::from_utf8(answer.bytes).unwrap();
            let (status, rest) = text.split_once("\r\n").unwrap();
            assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large", "split at {split}");
            assert!(rest.starts_with("content-security-policy: default-src 'none';"), "{rest}");
            assert!(rest.ends_with("cache-control: no-store\r\ncontent-length: 0\r\n\r\n"), "{rest}");
        }
    }
}
