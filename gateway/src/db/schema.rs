//! The Diesel schema, written by hand to match `migrations/` (both backends).

#![allow(missing_docs)]

diesel::table! {
    accounts (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        verified -> Bool,
        disabled -> Bool,
        language -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    domains (domain) {
        domain -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    ssh_keys (id) {
        id -> Text,
        account_id -> Text,
        algorithm -> Text,
        key_blob -> Text,
        fingerprint -> Text,
        comment -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    account_tokens (id) {
        id -> Text,
        account_id -> Text,
        purpose -> Text,
        secret_hash -> Binary,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    upload_requests (id) {
        id -> Text,
        requester_id -> Text,
        recipient_name -> Text,
        recipient_email -> Text,
        language -> Text,
        text_sealed -> Nullable<Binary>,
        secret_hash -> Binary,
        created_at -> BigInt,
        expires_at -> BigInt,
        answered_at -> Nullable<BigInt>,
        withdrawn_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    transfers (id) {
        id -> Text,
        kind -> Text,
        state -> Text,
        owner_id -> Nullable<Text>,
        upload_request_id -> Nullable<Text>,
        name -> Text,
        sender_name -> Text,
        sender_email -> Text,
        recipient_name -> Nullable<Text>,
        recipient_email -> Nullable<Text>,
        recipient_phone -> Nullable<Text>,
        recipient_id -> Nullable<Text>,
        subject -> Text,
        reference -> Text,
        language -> Text,
        body_sealed -> Nullable<Binary>,
        send_problem -> Nullable<Text>,
        created_at -> BigInt,
        window_started_at -> Nullable<BigInt>,
        sent_at -> Nullable<BigInt>,
        expires_at -> Nullable<BigInt>,
        aborted_at -> Nullable<BigInt>,
        abort_reason -> Nullable<Text>,
        purged_at -> Nullable<BigInt>,
        message_txt_sealed -> Nullable<Binary>,
        delivery_id -> Nullable<Text>,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        secret_hash -> Binary,
        sender_name -> Text,
        sender_email -> Text,
        contact_name -> Text,
        contact_email -> Text,
        language -> Text,
        ip -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        transfer_id -> Text,
        name -> Text,
        name_key -> Text,
        state -> Text,
        size -> BigInt,
        sha256 -> Nullable<Binary>,
        key_scheme -> Text,
        key_sealed -> Nullable<Binary>,
        content_check -> Nullable<Text>,
        created_at -> BigInt,
        completed_at -> Nullable<BigInt>,
        deleted_at -> Nullable<BigInt>,
        inline_blob -> Nullable<Binary>,
        kind -> Text,
        crc32 -> Nullable<BigInt>,
        upload_length -> Nullable<BigInt>,
        staged_checkpoint -> Nullable<Binary>,
    }
}

diesel::table! {
    links (id) {
        id -> Text,
        transfer_id -> Text,
        purpose -> Text,
        secret_hash -> Binary,
        created_at -> BigInt,
        code_hmac -> Nullable<Binary>,
        code_issued_at -> Nullable<BigInt>,
        code_failures -> Integer,
        failures_total -> Integer,
        codes_issued -> Integer,
        codes_window_started_at -> Nullable<BigInt>,
        locked_at -> Nullable<BigInt>,
        redeemed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    downloads (id) {
        id -> Text,
        transfer_id -> Text,
        document_id -> Nullable<Text>,
        at -> BigInt,
        who -> Text,
        proof -> Text,
        door -> Text,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> BigInt,
        kind -> Text,
        door -> Text,
        actor -> Nullable<Text>,
        transfer_id -> Nullable<Text>,
        document_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        created_at -> BigInt,
        channel -> Text,
        template -> Text,
        language -> Text,
        recipient -> Text,
        payload_sealed -> Nullable<Binary>,
        transfer_id -> Nullable<Text>,
        caused_by -> Nullable<Text>,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        owner_id -> Text,
        name -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    templates (id) {
        id -> Text,
        owner_id -> Text,
        name -> Text,
        subject -> Text,
        reference -> Text,
        body -> Text,
        language -> Text,
        is_default -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    auth_failures (id) {
        id -> Text,
        at -> BigInt,
        account_key -> Text,
        ip_key -> Text,
        door -> Text,
    }
}

diesel::table! {
    leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    web_sessions (token_hash) {
        token_hash -> Binary,
        link_id -> Text,
        who -> Text,
        proof -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
    }
}

diesel::table! {
    totp_secrets (account_id) {
        account_id -> Text,
        secret_sealed -> Binary,
        created_at -> BigInt,
        confirmed_at -> Nullable<BigInt>,
        last_step -> BigInt,
    }
}

diesel::table! {
    key_checks (name) {
        name -> Text,
        value -> Binary,
    }
}

diesel::table! {
    recovery_codes (account_id, code_tag) {
        account_id -> Text,
        code_tag -> Binary,
    }
}

diesel::joinable!(documents -> transfers (transfer_id));
diesel::joinable!(links -> transfers (transfer_id));
diesel::joinable!(ssh_keys -> accounts (account_id));
diesel::joinable!(downloads -> transfers (transfer_id));
diesel::joinable!(downloads -> documents (document_id));
diesel::joinable!(app_passwords -> accounts (account_id));
diesel::joinable!(staff_sessions -> accounts (account_id));
diesel::joinable!(totp_secrets -> accounts (account_id));
diesel::joinable!(dead_properties -> transfers (transfer_id));

diesel::allow_tables_to_appear_in_same_query!(
    deliveries,
    accounts,
    domains,
    ssh_keys,
    account_tokens,
    upload_requests,
    transfers,
    documents,
    links,
    downloads,
    audit_events,
    outbox,
    contacts,
    templates,
    auth_failures,
    leases,
    web_sessions,
    staff_sessions,
    first_run,
    totp_secrets,
    recovery_codes,
    key_checks,
    app_passwords,
    dav_locks,
    dead_properties,
);

diesel::table! {
    first_run (id) {
        id -> Integer,
        secret_hash -> Nullable<Binary>,
        organisation -> Text,
        completed_at -> Nullable<BigInt>,
        require_second_factor -> Bool,
    }
}

diesel::table! {
    staff_sessions (token_hash) {
        token_hash -> Binary,
        account_id -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        awaiting_code -> Bool,
    }
}

diesel::table! {
    app_passwords (id) {
        id -> Text,
        account_id -> Text,
        label -> Text,
        secret_hash -> Binary,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    dav_locks (token) {
        token -> Text,
        owner_key -> Text,
        path -> Text,
        lock_owner -> Nullable<Text>,
        shared -> Bool,
        deep -> Bool,
        timeout_s -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    dead_properties (transfer_id, node, namespace, name) {
        transfer_id -> Text,
        node -> Text,
        document_id -> Nullable<Text>,
        owner_key -> Text,
        namespace -> Text,
        name -> Text,
        value -> Binary,
    }
}
