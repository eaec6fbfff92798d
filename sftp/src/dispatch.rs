//! The SFTP protocol loop, our own rather than russh-sftp's (which answers
//! one request at a time): one reader that frames packets and closes the
//! session on a bad length, requests on paths run concurrently (bounded), each
//! open handle has one task that takes its requests in the order they came
//! (writes of an upload must land in order), and one writer sends the answers.
//! russh-sftp is used only for its packet codec.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use russh_sftp::protocol::{
    Attrs, Data, ExtendedReply, File, FileAttributes, Handle, Name, Packet, Status, StatusCode, Version,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, mpsc};

use crate::fs::{Opened, Tree, longname, open_file_attrs};
use crate::status::Refusal;
use gateway::tree::Overwrite;

/// The largest request a client may send: a write of [`MAX_IO`] and its header.
pub(crate) const MAX_PACKET: u32 = 256 * 1024;
/// OpenSSH's rename that replaces a file of the new name (SFTP's own
/// RENAME refuses a name taken).
pub(crate) const POSIX_RENAME: &str = "posix-rename@openssh.com";

/// The two SSH strings of an extended request's data (old and new path).
pub(crate) fn two_strings(data: &[u8]) -> Option<(String, String)> {
    fn one(data: &[u8]) -> Option<(String, &[u8])> {
        let len = usize::try_from(u32::from_be_bytes(data.get(..4)?.try_into().ok()?)).ok()?;
        let text = data.get(4..4usize.checked_add(len)?)?;
        Some((String::from_utf8(text.to_vec()).ok()?, &data[4 + len..]))
    }
    let (from, rest) = one(data)?;
    let (to, _) = one(rest)?;
    Some((from, to))
}

/// The largest read or write, announced with `limits@openssh.com`.
pub(crate) const MAX_IO: u32 = MAX_PACKET - 1024;
/// Handles one connection may hold open.
const MAX_HANDLES: usize = 64;
/// Requests on paths in progress at once per connection.
const CONCURRENT_REQUESTS: usize = 64;
/// Requests queued per handle before the reader waits: with writes of up to
/// [`MAX_IO`], 2 MiB of an upload waits here at most. A handle task never
/// waits for the client's window (answers queue for the writer), so the
/// reader's wait is short and the session loop keeps reading.
const HANDLE_QUEUE: usize = 8;
/// Entries per READDIR answer.
const DIR_BATCH: usize = 100;

/// Where answers go: SFTP packets, and a line on stderr for each refusal
/// that a user should read.
#[derive(Clone)]
struct Out {
    packets: mpsc::Sender<Bytes>,
    notices: mpsc::Sender<String>,
}
type Handles = Arc<Mutex<HashMap<String, mpsc::Sender<Packet>>>>;

/// Serve SFTP on one channel until the client closes it or breaks the protocol.
/// The stream's halves are given back, so that the caller can send the exit
/// status before the channel closes.
pub(crate) async fn run<S, E>(stream: S, stderr: E, tree: Tree) -> Ended<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    E: AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (out, mut answers) = mpsc::channel::<Bytes>(256);
    let (notices, mut notes) = mpsc::channel::<String>(32);
    let notice_writer = tokio::spawn(async move {
        let mut stderr = stderr;
        while let Some(line) = notes.recv().await {
            if stderr.write_all(line.as_bytes()).await.is_err() || stderr.flush().await.is_err() {
                return;
            }
        }
    });
    let out = Out { packets: out, notices };
    let writer = tokio::spawn(async move {
        while let Some(bytes) = answers.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                break;
            }
            if answers.is_empty() && wr.flush().await.is_err() {
                break;
            }
        }
        wr
    });
    let tree = Arc::new(tree);
    let handles: Handles = Arc::new(Mutex::new(HashMap::new()));
    let permits = Arc::new(Semaphore::new(CONCURRENT_REQUESTS));
    let mut next_handle: u64 = 0;
    let mut initialised = false;
    loop {
        let packet = match read_packet(&mut rd).await {
            Ok(Some(body)) => body,
            Ok(None) => break,
            Err(why) => {
                tracing::info!(why, "closing the SFTP session");
                break;
            }
        };
        let id = request_id(&packet);
        let mut body = packet;
        let request = match Packet::try_from(&mut body) {
            Ok(p) => p,
            Err(_) => {
                let refusal = Refusal::new(StatusCode::BadMessage, "the request could not be decoded");
                if send(&out, status(id, &refusal)).await.is_err() {
                    break;
                }
                continue;
            }
        };
        match request {
            Packet::Init(_) if !initialised => {
                initialised = true;
                let mut extensions = HashMap::new();
                extensions.insert("limits@openssh.com".to_owned(), "1".to_owned());
                extensions.insert(POSIX_RENAME.to_owned(), "1".to_owned());
                if send(&out, Packet::Version(Version { version: 3, extensions })).await.is_err() {
                    break;
                }
            }
            _ if !initialised => {
                tracing::info!("SFTP request before INIT; closing");
                break;
            }
            Packet::Read(r) => {
                let handle = r.handle.clone();
                to_handle(&handles, &out, &handle, Packet::Read(r), false).await;
            }
            Packet::Write(w) => {
                let handle = w.handle.clone();
                to_handle(&handles, &out, &handle, Packet::Write(w), false).await;
            }
            Packet::ReadDir(r) => {
                let handle = r.handle.clone();
                to_handle(&handles, &out, &handle, Packet::ReadDir(r), false).await;
            }
            Packet::Fstat(r) => {
                let handle = r.handle.clone();
                to_handle(&handles, &out, &handle, Packet::Fstat(r), false).await;
            }
            Packet::FSetStat(r) => {
                let handle = r.handle.clone();
                to_handle(&handles, &out, &handle, Packet::FSetStat(r), false).await;
            }
            Packet::Close(c) => {
                let handle = c.handle.clone();
                to_handle(&handles, &out, &handle, Packet::Close(c), true).await;
            }
            Packet::Extended(e) if e.request == "limits@openssh.com" => {
                let mut data = Vec::with_capacity(32);
                for v in [u64::from(MAX_PACKET), u64::from(MAX_IO), u64::from(MAX_IO), MAX_HANDLES as u64] {
                    data.extend_from_slice(&v.to_be_bytes());
                }
                let _ = send(&out, Packet::ExtendedReply(ExtendedReply { id: e.id, data })).await;
            }
            other => {
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                let handle_name = match &other {
                    Packet::Open(_) | Packet::OpenDir(_) => {
                        next_handle += 1;
                        Some(format!("h{next_handle}"))
                    }
                    _ => None,
                };
                let (tree, out, handles) = (tree.clone(), out.clone(), handles.clone());
                tokio::spawn(async move {
                    let answer = on_path(&tree, other, handle_name, &handles, &out).await;
                    let _ = send(&out, answer).await;
                    drop(permit);
                });
            }
        }
    }
    // The client is gone: every handle's task ends once its queue is dropped.
    if let Ok(mut h) = handles.lock() {
        h.clear();
    }
    drop(out);
    let wr = writer.await.ok();
    notice_writer.abort();
    Ended { _halves: (rd, wr) }
}

/// The halves of a finished session's stream, to drop after the exit status.
pub(crate) struct Ended<S> {
    _halves: (tokio::io::ReadHalf<S>, Option<tokio::io::WriteHalf<S>>),
}

/// One framed packet: its length checked before anything is allocated.
pub(crate) async fn read_packet<R: AsyncRead + Unpin>(rd: &mut R) -> Result<Option<Bytes>, &'static str> {
    let len = match rd.read_u32().await {
        Ok(len) => len,
        Err(_) => return Ok(None),
    };
    if len == 0 || len > MAX_PACKET + 1024 {
        return Err("a packet length out of bounds");
    }
    let mut body = BytesMut::zeroed(len as usize);
    rd.read_exact(&mut body).await.map_err(|_| "the connection ended inside a packet")?;
    Ok(Some(body.freeze()))
}

/// The request id of a packet body (after its type byte), for an answer to a
/// request that could not be decoded.
pub(crate) fn request_id(body: &Bytes) -> u32 {
    match body.get(1..5) {
        Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

async fn send(out: &Out, packet: Packet) -> Result<(), ()> {
    if let Packet::Status(s) = &packet
        && matches!(s.status_code, StatusCode::PermissionDenied | StatusCode::Failure | StatusCode::OpUnsupported)
    {
        let _ = out.notices.try_send(format!("koerier: {}\n", s.error_message));
    }
    match Bytes::try_from(packet) {
        Ok(bytes) => out.packets.send(bytes).await.map_err(|_| ()),
        Err(e) => {
            tracing::error!(error = %e, "an SFTP answer could not be encoded");
            Err(())
        }
    }
}

fn status(id: u32, refusal: &Refusal) -> Packet {
    Packet::Status(Status {
        id,
        status_code: refusal.code,
        error_message: refusal.message.clone(),
        language_tag: "en".into(),
    })
}

fn ok(id: u32) -> Packet {
    Packet::Status(Status { id, status_code: StatusCode::Ok, error_message: "ok".into(), language_tag: "en".into() })
}

fn reply(id: u32, result: Result<(), Refusal>) -> Packet {
    match result {
        Ok(()) => ok(id),
        Err(r) => status(id, &r),
    }
}

async fn to_handle(handles: &Handles, out: &Out, handle: &str, request: Packet, closing: bool) {
    let id = request.get_request_id();
    let queue = match handles.lock() {
        Ok(mut h) if closing => h.remove(handle),
        Ok(h) => h.get(handle).cloned(),
        Err(_) => None,
    };
    match queue {
        Some(q) => {
            if q.send(request).await.is_err() {
                let _ = send(out, status(id, &Refusal::failure("this handle is closed"))).await;
            }
        }
        None => {
            let _ = send(out, status(id, &Refusal::failure("no such handle"))).await;
        }
    }
}

/// A request on a path; OPEN and OPENDIR start the task of their handle.
async fn on_path(tree: &Arc<Tree>, request: Packet, handle: Option<String>, handles: &Handles, out: &Out) -> Packet {
    let id = request.get_request_id();
    let opened = match request {
        Packet::Open(o) => tree.open(&o.filename, o.pflags).await,
        Packet::OpenDir(o) => tree.list(&o.path).await.map(Opened::Dir),
        Packet::Stat(s) => return attrs(id, tree.stat(&s.path).await),
        Packet::Lstat(s) => return attrs(id, tree.stat(&s.path).await),
        Packet::SetStat(s) => return reply(id, tree.setstat(&s.path).await),
        Packet::RealPath(p) => {
            let path = gateway::tree::TreePath::parse(&p.path).display();
            let file = File { filename: path.clone(), longname: path, attrs: FileAttributes::empty() };
            return Packet::Name(Name { id, files: vec![file] });
        }
        Packet::MkDir(m) => return reply(id, tree.mkdir(&m.path).await),
        Packet::RmDir(r) => return reply(id, tree.rmdir(&r.path).await),
        Packet::Remove(r) => return reply(id, tree.remove(&r.filename).await),
        Packet::Rename(r) => return reply(id, tree.rename(&r.oldpath, &r.newpath, Overwrite::No).await),
        Packet::Extended(e) if e.request == POSIX_RENAME => {
            let Some((from, to)) = two_strings(&e.data) else {
                return status(id, &Refusal::new(StatusCode::BadMessage, "posix-rename takes two paths"));
            };
            return reply(id, tree.rename(&from, &to, Overwrite::Yes).await);
        }
        Packet::ReadLink(_) | Packet::Symlink(_) => return status(id, &Refusal::unsupported("a link")),
        Packet::Extended(e) => {
            return status(id, &Refusal::unsupported(&format!("the extension {}", e.request)));
        }
        _ => return status(id, &Refusal::new(StatusCode::BadMessage, "not a request")),
    };
    let opened = match opened {
        Ok(o) => o,
        Err(r) => return status(id, &r),
    };
    let Some(name) = handle else { return status(id, &Refusal::failure("internal error")) };
    let (queue, requests) = mpsc::channel(HANDLE_QUEUE);
    let registered = match handles.lock() {
        Ok(mut h) if h.len() < MAX_HANDLES => {
            h.insert(name.clone(), queue);
            true
        }
        _ => false,
    };
    if !registered {
        tree.abandon(opened).await;
        return status(id, &Refusal::failure(format!("at most {MAX_HANDLES} open files per connection")));
    }
    tokio::spawn(serve_handle(tree.clone(), opened, requests, out.clone()));
    Packet::Handle(Handle { id, handle: name })
}

fn attrs(id: u32, result: Result<FileAttributes, Refusal>) -> Packet {
    match result {
        Ok(attrs) => Packet::Attrs(Attrs { id, attrs }),
        Err(r) => status(id, &r),
    }
}

/// The task of one open handle: its requests, in order, until CLOSE.
async fn serve_handle(tree: Arc<Tree>, mut opened: Opened, mut requests: mpsc::Receiver<Packet>, out: Out) {
    let mut listed = false;
    while let Some(request) = requests.recv().await {
        let id = request.get_request_id();
        let answer = match (request, &mut opened) {
            (Packet::Close(_), _) => {
                let result = tree.close(opened).await;
                let _ = send(&out, reply(id, result)).await;
                return;
            }
            (Packet::Read(r), Opened::Bytes(bytes)) => {
                let start = usize::try_from(r.offset).unwrap_or(usize::MAX).min(bytes.len());
                let end = start.saturating_add(r.len.min(MAX_IO) as usize).min(bytes.len());
                match bytes.get(start..end) {
                    Some(slice) if !slice.is_empty() => Packet::Data(Data { id, data: slice.to_vec() }),
                    _ => status(id, &Refusal::new(StatusCode::Eof, "end of file")),
                }
            }
            (Packet::Read(r), Opened::Document(doc)) => {
                match tree.read_document(doc, r.offset, r.len.min(MAX_IO)).await {
                    Ok(Some(data)) => Packet::Data(Data { id, data }),
                    Ok(None) => status(id, &Refusal::new(StatusCode::Eof, "end of file")),
                    Err(refusal) => status(id, &refusal),
                }
            }
            (Packet::Write(w), Opened::Upload(upload)) => {
                reply(id, upload.write_at(w.offset, &w.data).await.map_err(Refusal::from))
            }
            (Packet::Write(w), Opened::Envelope(text)) => {
                reply(id, text.write_at(w.offset, &w.data).map_err(Refusal::from))
            }
            (Packet::Write(_), _) => status(id, &Refusal::new(StatusCode::PermissionDenied, "opened for reading")),
            (Packet::Read(_), _) => status(id, &Refusal::new(StatusCode::PermissionDenied, "opened for writing")),
            (Packet::ReadDir(_), Opened::Dir(entries)) => {
                if entries.is_empty() {
                    let eof = if listed { "end of listing" } else { "empty folder" };
                    status(id, &Refusal::new(StatusCode::Eof, eof))
                } else {
                    listed = true;
                    let rest = entries.split_off(entries.len().min(DIR_BATCH));
                    let batch = std::mem::replace(entries, rest);
                    let files = batch
                        .into_iter()
                        .map(|e| File { longname: longname(&e.name, &e.attrs), filename: e.name, attrs: e.attrs })
                        .collect();
                    Packet::Name(Name { id, files })
                }
            }
            (Packet::Fstat(_), Opened::Bytes(bytes)) => {
                Packet::Attrs(Attrs { id, attrs: open_file_attrs(false, bytes.len() as u64) })
            }
            (Packet::Fstat(_), Opened::Upload(upload)) => {
                Packet::Attrs(Attrs { id, attrs: open_file_attrs(true, upload.offset()) })
            }
            (Packet::Fstat(_), Opened::Document(doc)) => {
                Packet::Attrs(Attrs { id, attrs: open_file_attrs(false, doc.size()) })
            }
            (Packet::Fstat(_), Opened::Envelope(text)) => {
                Packet::Attrs(Attrs { id, attrs: open_file_attrs(true, text.len()) })
            }
            (Packet::Fstat(_), Opened::Dir(_)) => {
                let mut attrs = FileAttributes::empty();
                attrs.permissions = Some(0o40555);
                Packet::Attrs(Attrs { id, attrs })
            }
            (Packet::FSetStat(_), _) => ok(id),
            (_, _) => status(id, &Refusal::new(StatusCode::BadMessage, "not a request on a handle")),
        };
        if send(&out, answer).await.is_err() {
            break;
        }
    }
    tree.abandon(opened).await;
}
