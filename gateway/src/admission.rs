//! Who may open a connection: caps on the connections of one listener, in
//! all and per client address, and on how fast one address may open new
//! ones. Both network doors ask here at every accept, before any byte is
//! read, so that no single client can use up the process's file descriptors,
//! memory or handshakes. The counts are this node's own (a connection lives
//! on one node); the limits are the operator's (`[limits]`).
//!
//! The same `[limits]` hold the free-space reserve of the document store.
//!
//! An address is counted as the sign-in failures are: IPv6 per /64,
//! IPv4-mapped IPv6 as IPv4.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::{Error, Result};

/// One of the listeners that admit connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Https,
    Sftp,
}

/// The operator's limits on connections and request bodies (`[limits]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Open connections on one listener (HTTPS or SFTP), all addresses
    /// together, unless the listener's own number below is set.
    pub connections: u32,
    /// Open connections on the HTTPS listener; unset: `connections`.
    pub https_connections: Option<u32>,
    /// Open connections on the SFTP listener; unset: `connections`.
    pub sftp_connections: Option<u32>,
    /// Open connections on one listener from one address.
    pub connections_per_address: u32,
    /// SSH connections from one address that have not signed in yet (the
    /// key exchange is the costly part of a connection: OpenSSH's
    /// `MaxStartups`, per address).
    pub sign_ins_per_address: u32,
    /// New connections one address may open per second on one listener,
    /// after a burst of twice `connections_per_address`: past it a new
    /// connection waits its turn (up to four seconds), then is refused.
    pub connection_rate_per_address: u32,
    /// The slowest a request body may arrive, in bytes per second, counted
    /// over each `body_window` the server spends waiting for it.
    pub body_min_rate: u64,
    /// The window over which `body_min_rate` is counted; a body that brings
    /// nothing for this long is ended.
    #[serde(with = "crate::settings::humantime_serde")]
    pub body_window: Duration,
    /// How long an HTTPS connection may wait for a request's headers,
    /// between requests too.
    #[serde(with = "crate::settings::humantime_serde")]
    pub request_idle: Duration,
    /// How long an SSH connection may take from the TCP accept to a
    /// successful sign-in (banner and key exchange included).
    #[serde(with = "crate::settings::humantime_serde")]
    pub sign_in_time: Duration,
    /// Bytes an upload leaves free in the data folder, so that the database,
    /// sign-ins, downloads and the jobs go on when uploads have filled it.
    pub free_space_reserve: u64,
    /// Below this many free bytes the jobs log a warning at every round.
    pub free_space_warning: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 4096,
            https_connections: None,
            sftp_connections: None,
            connections_per_address: 128,
            sign_ins_per_address: 16,
            connection_rate_per_address: 64,
            body_min_rate: 1024,
            body_window: Duration::from_secs(30),
            request_idle: Duration::from_secs(30),
            sign_in_time: Duration::from_secs(30),
            free_space_reserve: 256 << 20,
            free_space_warning: 2 << 30,
        }
    }
}

impl Limits {
    /// Refuse values that would leave the service without a bound, or unusable.
    pub fn validate(&self) -> Result<()> {
        if self.connections == 0
            || self.connections_per_address == 0
            || self.connection_rate_per_address == 0
            || self.sign_ins_per_address == 0
        {
            return Err(Error::Invalid(
                "connections, connections_per_address, connection_rate_per_address and sign_ins_per_address \
                 must be at least 1"
                    .into(),
            ));
        }
        if self.https_connections == Some(0) || self.sftp_connections == Some(0) {
            return Err(Error::Invalid("https_connections and sftp_connections must be at least 1".into()));
        }
        if self.connections_per_address > self.connections {
            return Err(Error::Invalid("connections_per_address must not exceed connections".into()));
        }
        if self.body_window < Duration::from_secs(1) || self.body_window > Duration::from_secs(3600) {
            return Err(Error::Invalid("body_window must be between 1s and 1h".into()));
        }
        let sane = Duration::from_secs(1)..=Duration::from_secs(600);
        if !sane.contains(&self.request_idle) || !sane.contains(&self.sign_in_time) {
            return Err(Error::Invalid("request_idle and sign_in_time must be between 1s and 10m".into()));
        }
        Ok(())
    }

    /// Open connections one listener holds.
    pub fn connections_of(&self, listener: Listener) -> u32 {
        match listener {
            Listener::Https => self.https_connections,
            Listener::Sftp => self.sftp_connections,
        }
        .unwrap_or(self.connections)
    }

    /// The limits one listener admits by: its own number of connections
    /// (an address's share never more than all of it).
    pub fn for_listener(&self, listener: Listener) -> Limits {
        let connections = self.connections_of(listener);
        Limits { connections, connections_per_address: self.connections_per_address.min(connections), ..self.clone() }
    }

    /// Fit both listeners' caps into `budget` connections in all, each cut
    /// in proportion (at least one each); true when they had to be cut.
    pub fn fit_into(&mut self, budget: u64) -> bool {
        let (https, sftp) = (self.connections_of(Listener::Https), self.connections_of(Listener::Sftp));
        let wanted = u64::from(https) + u64::from(sftp);
        if wanted <= budget {
            return false;
        }
        let share = |n: u32| u32::try_from(u64::from(n) * budget / wanted).unwrap_or(u32::MAX).max(1);
        self.https_connections = Some(share(https));
        self.sftp_connections = Some(share(sftp));
        true
    }

    /// New connections an address may open at once: its share, and as many
    /// again to be told that it is full (see `crowded` in the doors).
    fn burst(&self) -> f64 {
        2.0 * f64::from(self.connections_per_address)
    }

    /// Tokens an address may owe: connections past its burst wait for them.
    fn debt(&self) -> f64 {
        f64::from(self.connection_rate_per_address) * MAX_WAIT.as_secs_f64()
    }

    /// The fewest bytes a body must bring in one window.
    pub fn body_bytes_per_window(&self) -> u64 {
        let millis = u64::try_from(self.body_window.as_millis()).unwrap_or(u64::MAX);
        self.body_min_rate.saturating_mul(millis) / 1000
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Crowded {
    /// The listener holds as many connections as it may.
    #[error("the service is busy; try again in a minute")]
    Full,
    /// This address holds as many connections as it may.
    #[error("too many connections from your address; close some and try again")]
    AddressFull,
    /// This address has as many SSH connections signing in as it may.
    #[error("too many connections from your address are still signing in; try again in a minute")]
    SignInsFull,
    /// This address opens connections faster than it may.
    #[error("too many new connections from your address; try again in a few seconds")]
    TooFast,
}

/// The admission of one listener.
#[derive(Clone)]
pub struct Admission {
    inner: Arc<Inner>,
}

struct Inner {
    limits: Limits,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    open: u32,
    addresses: HashMap<AddressKey, Address>,
}

/// What is known of one address: its open connections and its bucket of
/// new-connection tokens, refilled at `connection_rate_per_address`.
struct Address {
    open: u32,
    /// Of those, the ones that have not signed in yet.
    unproven: u32,
    tokens: f64,
    refilled: Instant,
    /// Whether a refusal was logged since the address was last admitted,
    /// so that a flood makes one log line, not one per connection.
    refusing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AddressKey {
    V4(u32),
    V6Net(u64),
}

impl AddressKey {
    fn of(ip: IpAddr) -> AddressKey {
        match ip.to_canonical() {
            IpAddr::V4(v4) => AddressKey::V4(v4.to_bits()),
            IpAddr::V6(v6) => AddressKey::V6Net((v6.to_bits() >> 64) as u64),
        }
    }
}

/// One admitted connection; dropping it frees its place.
pub struct Ticket {
    inner: Arc<Inner>,
    key: AddressKey,
    wait: Duration,
    /// Admitted to sign in, and not signed in yet.
    unproven: bool,
}

/// What a connection is admitted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// Requests, each authorised on its own (HTTPS).
    Requests,
    /// A session that signs in first (SSH), counted against
    /// `sign_ins_per_address` until it has.
    SignIn,
}

impl Ticket {
    /// How long the door waits before it serves this connection: an address
    /// past its burst is slowed to its rate, not refused, up to
    /// [`MAX_WAIT`].
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// The connection signed in: it no longer counts as signing in.
    pub fn signed_in(&mut self) {
        if std::mem::take(&mut self.unproven) {
            let mut state = self.inner.state.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(address) = state.addresses.get_mut(&self.key) {
                address.unproven = address.unproven.saturating_sub(1);
            }
        }
    }
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission").field("limits", &self.inner.limits).field("open", &self.open()).finish()
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticket")
    }
}

/// The longest an address past its burst is made to wait for a connection;
/// beyond that it is refused.
pub const MAX_WAIT: Duration = Duration::from_secs(4);

/// How many addresses are remembered before the idle ones are forgotten.
const PRUNE_AT: usize = 4096;

impl Admission {
    /// The admission of a listener with these limits.
    pub fn new(limits: Limits) -> Admission {
        Admission { inner: Arc::new(Inner { limits, state: Mutex::new(State::default()) }) }
    }

    /// The limits this listener keeps.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Admit a new connection from `ip`, or say why not.
    pub fn admit(&self, ip: IpAddr) -> std::result::Result<Ticket, Crowded> {
        self.admit_at(ip, Instant::now(), Purpose::Requests)
    }

    /// Admit a new connection that must sign in first (SSH), or say why
    /// not; it counts as signing in until [`Ticket::signed_in`].
    pub fn admit_to_sign_in(&self, ip: IpAddr) -> std::result::Result<Ticket, Crowded> {
        self.admit_at(ip, Instant::now(), Purpose::SignIn)
    }

    fn admit_at(&self, ip: IpAddr, now: Instant, purpose: Purpose) -> std::result::Result<Ticket, Crowded> {
        let limits = &self.inner.limits;
        let key = AddressKey::of(ip);
        let mut state = self.inner.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.addresses.len() >= PRUNE_AT {
            prune(&mut state.addresses, limits, now);
        }
        let full = state.open >= limits.connections;
        let burst = limits.burst();
        let address = state.addresses.entry(key).or_insert(Address {
            open: 0,
            unproven: 0,
            tokens: burst,
            refilled: now,
            refusing: false,
        });
        let rate = f64::from(limits.connection_rate_per_address);
        address.tokens = (address.tokens + now.duration_since(address.refilled).as_secs_f64() * rate).min(burst);
        address.refilled = now;
        let debt = limits.debt();
        let signing_in = purpose == Purpose::SignIn && address.unproven >= limits.sign_ins_per_address;
        let refused = if address.open >= limits.connections_per_address || signing_in {
            Some(match (address.tokens >= 1.0, signing_in) {
                (false, _) => Crowded::TooFast,
                (true, true) => Crowded::SignInsFull,
                (true, false) => Crowded::AddressFull,
            })
        } else if full {
            Some(Crowded::Full)
        } else if address.tokens - 1.0 < -debt {
            Some(Crowded::TooFast)
        } else {
            None
        };
        if let Some(why) = refused {
            // A refused try costs a token too, or a flood would never slow down.
            address.tokens = (address.tokens - 1.0).max(-debt);
            if !address.refusing {
                address.refusing = true;
                tracing::warn!(%ip, reason = %why, "refusing connections from an address");
            }
            return Err(why);
        }
        address.tokens -= 1.0;
        address.open += 1;
        let unproven = purpose == Purpose::SignIn;
        address.unproven += u32::from(unproven);
        address.refusing = false;
        // In debt: served once the bucket would be back at zero.
        let wait = Duration::from_secs_f64((-address.tokens).max(0.0) / rate);
        state.open += 1;
        Ok(Ticket { inner: self.inner.clone(), key, wait, unproven })
    }

    /// Open connections now, in all.
    pub fn open(&self) -> u32 {
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner).open
    }
}

/// Forget the addresses with nothing open whose bucket is full again.
fn prune(addresses: &mut HashMap<AddressKey, Address>, limits: &Limits, now: Instant) {
    let refill =
        Duration::from_secs_f64((limits.burst() + limits.debt()) / f64::from(limits.connection_rate_per_address));
    addresses.retain(|_, a| a.open > 0 || now.duration_since(a.refilled) < refill);
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.inner.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.open = state.open.saturating_sub(1);
        if let Some(address) = state.addresses.get_mut(&self.key) {
            address.open = address.open.saturating_sub(1);
            address.unproven = address.unproven.saturating_sub(u32::from(self.unproven));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_listener_has_its_own_cap_and_both_fit_a_budget_in_proportion() {
        let mut limits = Limits { sftp_connections: Some(10_000), ..Limits::default() };
        assert_eq!(limits.for_listener(Listener::Https).connections, 4096);
        assert_eq!(limits.for_listener(Listener::Sftp).connections, 10_000);
        assert!(!limits.fit_into(14_096), "fits as it is");
        assert!(limits.fit_into(7_048));
        assert_eq!((limits.connections_of(Listener::Https), limits.connections_of(Listener::Sftp)), (2048, 5000));
        let tight = Limits { connections_per_address: 128, https_connections: Some(50), ..Limits::default() };
        assert_eq!(tight.for_listener(Listener::Https).connections_per_address, 50);
        assert!(Limits { sftp_connections: Some(0), ..Limits::default() }.validate().is_err());
    }

    fn limits(connections: u32, per_address: u32, rate: u32) -> Limits {
        Limits {
            connections,
            connections_per_address: per_address,
            connection_rate_per_address: rate,
            ..Limits::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn an_address_gets_its_share_and_no_more_until_one_closes() {
        let admission = Admission::new(limits(100, 3, 1000));
        let t0 = Instant::now();
        let held: Vec<_> = (0..3).map(|_| admission.admit_at(ip("192.0.2.1"), t0, Purpose::Requests)).collect();
        assert!(held.iter().all(|t| t.is_ok()));
        assert_eq!(admission.admit_at(ip("192.0.2.1"), t0, Purpose::Requests).err(), Some(Crowded::AddressFull));
        // Another address is not held back.
        assert!(admission.admit_at(ip("192.0.2.2"), t0, Purpose::Requests).is_ok());
        drop(held);
        assert_eq!(admission.open(), 0);
        assert!(admission.admit_at(ip("192.0.2.1"), t0 + Duration::from_millis(10), Purpose::Requests).is_ok());
    }

    #[test]
    fn an_address_has_few_connections_signing_in_and_signed_in_ones_do_not_count() {
        let admission = Admission::new(Limits { sign_ins_per_address: 2, ..limits(100, 10, 1000) });
        let t0 = Instant::now();
        let mut first = admission.admit_at(ip("192.0.2.1"), t0, Purpose::SignIn).expect("first");
        let _second = admission.admit_at(ip("192.0.2.1"), t0, Purpose::SignIn).expect("second");
        assert_eq!(admission.admit_at(ip("192.0.2.1"), t0, Purpose::SignIn).err(), Some(Crowded::SignInsFull));
        // Requests are not held back by sign-ins, nor another address.
        assert!(admission.admit_at(ip("192.0.2.1"), t0, Purpose::Requests).is_ok());
        assert!(admission.admit_at(ip("192.0.2.2"), t0, Purpose::SignIn).is_ok());
        first.signed_in();
        assert!(admission.admit_at(ip("192.0.2.1"), t0, Purpose::SignIn).is_ok(), "one signed in: room again");
    }

    #[test]
    fn the_listener_is_capped_in_all() {
        let admission = Admission::new(limits(2, 2, 1000));
        let t0 = Instant::now();
        let _a = admission.admit_at(ip("192.0.2.1"), t0, Purpose::Requests).expect("first");
        let _b = admission.admit_at(ip("192.0.2.2"), t0, Purpose::Requests).expect("second");
        assert_eq!(admission.admit_at(ip("192.0.2.3"), t0, Purpose::Requests).err(), Some(Crowded::Full));
    }

    #[test]
    fn new_connections_wait_after_a_burst_and_a_flood_is_refused() {
        let admission = Admission::new(limits(1000, 10, 5));
        let t0 = Instant::now();
        for _ in 0..20 {
            let ticket = admission.admit_at(ip("192.0.2.1"), t0, Purpose::Requests).expect("within the burst");
            assert_eq!(ticket.wait(), Duration::ZERO);
        }
        // Past the burst each waits its turn at 5 a second, up to 4 s.
        let waits: Vec<Duration> = (0..20)
            .map(|_| admission.admit_at(ip("192.0.2.1"), t0, Purpose::Requests).map(|t| t.wait()).expect("slowed"))
            .collect();
        assert_eq!(waits[0], Duration::from_millis(200));
        assert_eq!(waits[19], MAX_WAIT);
        assert_eq!(admission.admit_at(ip("192.0.2.1"), t0, Purpose::Requests).err(), Some(Crowded::TooFast));
        // A refused try costs a token: hammering keeps the address out.
        for i in 1..=10 {
            let at = t0 + Duration::from_millis(100 * i);
            assert_eq!(
                admission.admit_at(ip("192.0.2.1"), at, Purpose::Requests).err(),
                Some(Crowded::TooFast),
                "try {i}"
            );
        }
        // A pause pays the debt back at the rate: 5 a second.
        let later = t0 + Duration::from_secs(4);
        let ticket = admission.admit_at(ip("192.0.2.1"), later, Purpose::Requests).expect("in again");
        assert!(ticket.wait() < MAX_WAIT, "{:?}", ticket.wait());
        // Another address was never held back.
        assert_eq!(
            admission.admit_at(ip("192.0.2.2"), t0, Purpose::Requests).map(|t| t.wait()).ok(),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn an_ipv6_network_is_one_address_and_mapped_ipv4_is_ipv4() {
        let admission = Admission::new(limits(100, 2, 1000));
        let t0 = Instant::now();
        let _a = admission.admit_at(ip("2001:db8:1:2::1"), t0, Purpose::Requests).expect("first");
        let _b = admission.admit_at(ip("2001:db8:1:2:ffff::9"), t0, Purpose::Requests).expect("second");
        assert_eq!(admission.admit_at(ip("2001:db8:1:2::77"), t0, Purpose::Requests).err(), Some(Crowded::AddressFull));
        assert!(admission.admit_at(ip("2001:db8:1:3::1"), t0, Purpose::Requests).is_ok(), "another /64");
        let _c = admission.admit_at(ip("192.0.2.7"), t0, Purpose::Requests).expect("v4");
        let _d = admission.admit_at(ip("::ffff:192.0.2.7"), t0, Purpose::Requests).expect("mapped, the same address");
        assert_eq!(admission.admit_at(ip("192.0.2.7"), t0, Purpose::Requests).err(), Some(Crowded::AddressFull));
    }

    #[test]
    fn idle_addresses_are_forgotten() {
        let admission = Admission::new(limits(100_000, 10, 10));
        let t0 = Instant::now();
        for i in 0..PRUNE_AT as u32 {
            drop(admission.admit_at(IpAddr::V4(std::net::Ipv4Addr::from_bits(i)), t0, Purpose::Requests));
        }
        let later = t0 + Duration::from_secs(7);
        drop(admission.admit_at(ip("198.51.100.1"), later, Purpose::Requests));
        let remembered = admission.inner.state.lock().map(|s| s.addresses.len()).unwrap_or(usize::MAX);
        assert_eq!(remembered, 1);
    }

    #[test]
    fn limits_are_checked() {
        assert!(Limits::default().validate().is_ok());
        assert!(limits(10, 20, 1).validate().is_err());
        assert!(limits(10, 5, 0).validate().is_err());
        assert!(Limits { body_window: Duration::ZERO, ..Limits::default() }.validate().is_err());
        assert_eq!(Limits::default().body_bytes_per_window(), 30 * 1024);
    }
}
