//! The SSH layer (russh): algorithms chosen explicitly, authentication through
//! the core, and only the `sftp` subsystem on a session channel. Everything
//! else (shell, exec, pty, forwarding, agent, environment) is refused.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gateway::{Door, Gateway, Origin};
use russh::keys::{Algorithm, PrivateKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, PublicKeyOffer, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, MethodKind, MethodSet, Preferred, cipher, kex, mac};

use crate::fs::Tree;

/// How one signs in: a key, or a password.
fn sign_in_methods() -> MethodSet {
    let mut methods = MethodSet::empty();
    methods.push(MethodKind::PublicKey);
    methods.push(MethodKind::Password);
    methods
}

/// The russh configuration: algorithms, limits and buffers.
pub(crate) fn config(host_key: PrivateKey, idle_timeout: Duration) -> russh::server::Config {
    russh::server::Config {
        server_id: russh::SshId::Standard(Cow::Borrowed("SSH-2.0-koerier")),
        methods: sign_in_methods(),
        auth_rejection_time: Duration::from_secs(1),
        auth_rejection_time_initial: Some(Duration::from_millis(10)),
        keys: vec![host_key],
        preferred: Preferred {
            kex: Cow::Borrowed(&[
                kex::MLKEM768X25519_SHA256,
                kex::CURVE25519,
                kex::CURVE25519_PRE_RFC_8731,
                kex::EXTENSION_SUPPORT_AS_SERVER,
                kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
            ]),
            key: Cow::Borrowed(&[Algorithm::Ed25519]),
            host_key_certificates: Cow::Borrowed(&[]),
            cipher: Cow::Borrowed(&[cipher::AES_256_GCM, cipher::AES_128_GCM, cipher::CHACHA20_POLY1305]),
            mac: Cow::Borrowed(&[mac::HMAC_SHA512_ETM, mac::HMAC_SHA256_ETM]),
            compression: Cow::Borrowed(&[russh::compression::NONE]),
        },
        max_auth_attempts: 3,
        inactivity_timeout: Some(idle_timeout),
        // A large window and packets keep a pipelining client busy. russh
        // grants window as data arrives, not as it is used, so what bounds an
        // upload's memory is this buffer (32 messages of up to 64 KiB) and the
        // handle queue behind it (see `dispatch.rs`). The session loop never
        // waits on our writer: the reader that drains this buffer waits only
        // for handle tasks, which do not wait for the client's window.
        window_size: 16 * 1024 * 1024,
        maximum_packet_size: 65535,
        channel_buffer_size: 32,
        event_buffer_size: 64,
        nodelay: true,
        ..Default::default()
    }
}

/// One SSH connection.
pub(crate) struct Connection {
    gateway: Gateway,
    origin: Origin,
    session: Option<gateway::Session>,
    channels: HashMap<ChannelId, Channel<Msg>>,
    authenticated: Arc<AtomicBool>,
}

impl Connection {
    pub fn new(gateway: Gateway, peer: Option<SocketAddr>, authenticated: Arc<AtomicBool>) -> Connection {
        let ip: Option<IpAddr> = peer.map(|p| p.ip());
        Connection {
            gateway,
            origin: Origin::new(Door::Sftp, ip),
            session: None,
            channels: HashMap::new(),
            authenticated,
        }
    }

    fn admit(&mut self, session: gateway::Session) -> Auth {
        self.session = Some(session);
        self.authenticated.store(true, Ordering::SeqCst);
        Auth::Accept
    }

    /// Refuse one sign-in try; the client may try again, by either method,
    /// up to `max_auth_attempts` (russh's plain rejection would withdraw
    /// the password method after one wrong password).
    fn refuse(&self, user: &str, why: &gateway::Error) -> Auth {
        tracing::info!(ip = ?self.origin.ip, user_len = user.len(), reason = why.code(), "SFTP sign-in refused");
        Auth::Reject { proceed_with_methods: Some(sign_in_methods()), partial_success: false }
    }
}

fn wire_key(key: &russh::keys::PublicKey) -> Option<gateway::auth::SshPublicKey> {
    let blob = key.to_bytes().ok()?;
    gateway::auth::SshPublicKey::from_wire(key.algorithm().as_str(), &blob).ok()
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::reject())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let result = self.gateway.authenticate_login(user, password, self.origin).await;
        Ok(match result {
            Ok(session) => self.admit(session),
            Err(e) => self.refuse(user, &e),
        })
    }

    async fn auth_publickey_offered(&mut self, user: &str, offer: PublicKeyOffer<'_>) -> Result<Auth, Self::Error> {
        let Some(key) = wire_key(offer.public_key) else { return Ok(Auth::reject()) };
        Ok(match self.gateway.ssh_key_known(user, &key).await {
            Ok(true) => Auth::Accept,
            _ => Auth::reject(),
        })
    }

    async fn auth_publickey(&mut self, user: &str, verified: VerifiedPublicKey<'_>) -> Result<Auth, Self::Error> {
        let Some(key) = wire_key(verified.public_key) else { return Ok(Auth::reject()) };
        Ok(match self.gateway.authenticate_key(user, &key, self.origin).await {
            Ok(session) => self.admit(session),
            Err(e) => self.refuse(user, &e),
        })
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.session.is_some() && self.channels.len() < 4 {
            self.channels.insert(channel.id(), channel);
            reply.accept().await;
        }
        Ok(())
    }

    async fn subsystem_request(&mut self, id: ChannelId, name: &str, session: &mut Session) -> Result<(), Self::Error> {
        let channel = self.channels.remove(&id);
        match (name, channel, self.session.clone()) {
            ("sftp", Some(channel), Some(signed_in)) => {
                session.channel_success(id)?;
                let tree = Tree::new(&self.gateway, &signed_in);
                // Refusals also go to the channel's stderr: OpenSSH's client
                // shows that, and only a generic text for a status.
                let stderr = channel.make_writer_ext(Some(1));
                let handle = session.handle();
                tokio::spawn(async move {
                    let ended = crate::dispatch::run(channel.into_stream(), stderr, tree).await;
                    // scp and others judge the transfer by the exit status.
                    let _ = handle.exit_status_request(id, 0).await;
                    let _ = handle.eof(id).await;
                    let _ = handle.close(id).await;
                    drop(ended);
                });
            }
            _ => {
                session.channel_failure(id)?;
                session.close(id)?;
            }
        }
        Ok(())
    }

    async fn exec_request(&mut self, id: ChannelId, _data: &[u8], session: &mut Session) -> Result<(), Self::Error> {
        refuse_request(self, id, session)
    }

    async fn shell_request(&mut self, id: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        refuse_request(self, id, session)
    }

    async fn pty_request(
        &mut self,
        id: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(id)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        id: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(id)?;
        Ok(())
    }

    async fn x11_request(
        &mut self,
        id: ChannelId,
        _single: bool,
        _protocol: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(id)?;
        Ok(())
    }

    async fn agent_request(&mut self, _id: ChannelId, _session: &mut Session) -> Result<bool, Self::Error> {
        Ok(false)
    }

    async fn tcpip_forward(
        &mut self,
        _address: &str,
        _port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        Ok(false)
    }
}

/// Shell and exec end the channel: this server has nothing to run.
fn refuse_request(conn: &mut Connection, id: ChannelId, session: &mut Session) -> Result<(), russh::Error> {
    conn.channels.remove(&id);
    session.channel_failure(id)?;
    session.close(id)?;
    Ok(())
}
