//! The master key and the database belong together: the first start keeps
//! a check value of the key ([`crate::crypto::Keys::check_value`], derived
//! one way, never the key), and every later start, on any node, compares.
//! A node started with another key stops at once and says so, instead of
//! sealing what the other nodes cannot open and failing to open theirs.

use diesel::prelude::*;

use crate::crypto::Keys;
use crate::db::Db;
use crate::db::schema::key_checks;
use crate::error::{Error, Result};

const MASTER: &str = "master";

/// Record the master key's check value, or compare it with the one recorded.
pub(crate) async fn master_key_matches(db: &Db, keys: &Keys) -> Result<()> {
    let value = keys.check_value();
    let matches = db
        .write(move |conn| {
            // Two first starts at once: the first value written stands.
            crate::db::lock_for_transaction(conn, "key check")?;
            let stored: Option<Vec<u8>> =
                key_checks::table.find(MASTER).select(key_checks::value).get_result(conn).optional()?;
            match stored {
                Some(stored) => Ok(aws_lc_rs::constant_time::verify_slices_are_equal(&stored, &value).is_ok()),
                None => {
                    diesel::insert_into(key_checks::table)
                        .values((key_checks::name.eq(MASTER), key_checks::value.eq(&value)))
                        .execute(conn)?;
                    Ok(true)
                }
            }
        })
        .await?;
    if matches {
        Ok(())
    } else {
        Err(Error::Conflict(
            "the master key is not the one this database was made with: start this node with the master key \
             every other node uses (KOERIER_MASTER_KEY or KOERIER_MASTER_KEY_FILE); nothing was changed"
                .into(),
        ))
    }
}
