//! Server time of the staff pages' core calls in a full account: 10,000
//! messages sent (each with a document) and 1,000 contacts, on the database
//! given (SQLite in the folder by default, or a `postgres://` URL).
//!
//! ```text
//! cargo run --release --example staff_bench -- <dir> [database-url] [messages] [contacts]
//! ```
//!
//! Prints the time of each call that makes a message, early and late in the
//! seeding (one that grows with the account shows there); then p50 and p99
//! over 200 calls of: the overview's first page, a search, a search that
//! every message matches, a later page, the report of one message, the
//! address book; and the time to make the report PDF of a message with 500
//! documents. Run again on the same folder and database, it measures the
//! account seeded before instead of seeding anew.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway::address::{Mailbox, PhoneNumber};
use gateway::home::{MessageQuery, Side};
use gateway::{
    Admin, Envelope, Gateway, Language, MasterKey, NewAccount, Origin, Role, Session, Settings, SystemClock,
    SystemRandom, TransferId,
};

const ROUNDS: usize = 200;

fn percentile(times: &mut [Duration], p: f64) -> f64 {
    times.sort();
    let at = ((times.len() as f64 - 1.0) * p).round() as usize;
    times[at].as_secs_f64() * 1000.0
}

async fn measure<F, T>(name: &str, mut call: impl FnMut() -> F) -> Result<(), Box<dyn Error>>
where
    F: std::future::Future<Output = gateway::Result<T>>,
{
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        call().await?;
        times.push(start.elapsed());
    }
    println!("{name:<34} p50 {:>7.2} ms  p99 {:>7.2} ms", percentile(&mut times, 0.5), percentile(&mut times, 0.99));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: staff_bench <dir> [database-url] [messages] [contacts]");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir)?;
    let database_url =
        args.next().filter(|u| !u.is_empty()).unwrap_or_else(|| dir.join("bench.db").display().to_string());
    let messages: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(10_000);
    let contacts: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(1_000);
    // A busy account: the daily caps on SMS and mail are not what is measured.
    let rules = gateway::Rules {
        sms_per_sender_per_day: u32::MAX,
        mails_per_sender_per_day: u32::MAX,
        mails_per_address_per_day: u32::MAX,
        ..Default::default()
    };
    let settings = Settings {
        data_dir: dir.clone(),
        database_url,
        rules,
        limits: Default::default(),
        keys: Default::default(),
        store: None,
    };
    let master = MasterKey::from_base64("a29lcmllciBzdGFmZiBiZW5jaCBtYXN0ZXIga2V5ISE=")?;
    let gw = Gateway::open(settings, master, Arc::new(SystemClock), Arc::new(SystemRandom)).await?;
    let password = "bench password that is long enough";
    // A database seeded by an earlier run is measured again as it is.
    let (jan, last) = match gw.authenticate_password("jan@minvws.nl", password, Origin::cli()).await {
        Ok(jan) => {
            let found = gw.messages(&jan, MessageQuery { side: Side::Sent, search: String::new(), page: 1 }).await?;
            println!("measuring the {} messages seeded before", found.total);
            let last = found.lines.into_iter().find(|l| l.name.starts_with('m')).ok_or("no messages")?.id;
            (jan, last)
        }
        Err(_) => {
            let admin = Admin::console();
            gw.add_domain(&admin, "minvws.nl").await?;
            let new = NewAccount {
                email: "jan@minvws.nl".into(),
                display_name: "Jan".into(),
                role: Role::Staff,
                password: password.into(),
            };
            gw.create_account(&admin, new).await?;
            let jan = gw.authenticate_password("jan@minvws.nl", password, Origin::cli()).await?;
            let last = seed(&gw, &jan, messages, contacts).await?;
            (jan, last)
        }
    };

    let query = |search: &str, page| MessageQuery { side: Side::Sent, search: search.into(), page };
    measure("overview, first page", || gw.messages(&jan, query("", 1))).await?;
    measure("overview, search \"dossier 77\"", || gw.messages(&jan, query("dossier 77", 1))).await?;
    measure("overview, search \"dossier\" (all)", || gw.messages(&jan, query("dossier", 1))).await?;
    measure("overview, page 200", || gw.messages(&jan, query("", 200))).await?;
    measure("report of one message", || gw.report(&jan, &last)).await?;
    measure("address book", || gw.contacts(&jan)).await?;

    let big = gw.create_draft(&jan, &format!("big-{}", std::process::id())).await?;
    let env = Envelope { to: Some(Mailbox::parse("kees@minvws.nl")?), ..Envelope::default() };
    gw.set_envelope(&jan, &big.id, env).await?;
    for n in 0..500 {
        let mut up = gw.begin_upload(&jan, &big.id, &format!("d{n:03}.pdf"), gateway::upload::UploadMode::New).await?;
        up.write(b"%PDF-1.4\n%%EOF\n").await?;
        up.finish().await?;
    }
    gw.send(&jan, &big.id).await?;
    let data = gw.report(&jan, &big.id).await?;
    let start = Instant::now();
    let pdf = gw.report_pdf(&data, Language::Nl).await?;
    println!(
        "report PDF of 500 documents         {:>7.0} ms, {} bytes",
        start.elapsed().as_secs_f64() * 1000.0,
        pdf.len()
    );
    Ok(())
}

/// Send `messages` messages of one document each and save `contacts`
/// contacts; returns the last message sent. Prints each call's time in the
/// first and the last tenth of the seeding: a call that grows with the
/// account's messages shows there.
async fn seed(gw: &Gateway, jan: &Session, messages: usize, contacts: usize) -> Result<TransferId, Box<dyn Error>> {
    let seeding = Instant::now();
    let mut last = None;
    let tenth = (messages / 10).max(1);
    let mut calls = [[Duration::ZERO; 4]; 2];
    for n in 0..messages {
        let mut spent = [Duration::ZERO; 4];
        let mut start = Instant::now();
        let mut lap = |i: usize| {
            spent[i] = start.elapsed();
            start = Instant::now();
        };
        let draft = gw.create_draft(jan, &format!("m{n}")).await?;
        lap(0);
        let env = Envelope {
            to: Some(Mailbox::parse(&format!("Piet {n} <piet{n}@example.org>"))?),
            phone: Some(PhoneNumber::parse("0612345678")?),
            subject: format!("Dossier {n}"),
            reference: format!("REF-{n}"),
            language: Language::Nl,
            text: String::new(),
        };
        gw.set_envelope(jan, &draft.id, env).await?;
        lap(1);
        let mut up = gw.begin_upload(jan, &draft.id, "a.pdf", gateway::upload::UploadMode::New).await?;
        up.write(b"%PDF-1.4\n%%EOF\n").await?;
        up.finish().await?;
        lap(2);
        gw.send(jan, &draft.id).await?;
        lap(3);
        let tenths = [n < tenth, n >= messages - tenth];
        for (bucket, _) in calls.iter_mut().zip(tenths).filter(|(_, within)| *within) {
            for (total, one) in bucket.iter_mut().zip(spent) {
                *total += one;
            }
        }
        last = Some(draft.id);
    }
    for n in 0..contacts {
        let who = Mailbox::parse(&format!("Contact {n} <c{n}@example.org>"))?;
        gw.save_contact(jan, &who, None).await?;
    }
    println!("seeded {messages} messages and {contacts} contacts in {:.1} s", seeding.elapsed().as_secs_f64());
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / tenth as f64;
    for (name, i) in [("create_draft", 0), ("set_envelope", 1), ("upload of one document", 2), ("send", 3)] {
        println!(
            "seeding, {name:<24} first tenth {:>6.2} ms, last tenth {:>6.2} ms a message",
            per(calls[0][i]),
            per(calls[1][i])
        );
    }
    Ok(last.ok_or("no messages")?)
}
