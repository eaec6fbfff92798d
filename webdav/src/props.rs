//! Dead properties between dav-server and the core: a PROPPATCH's changes
//! into the core's terms, the core's properties and outcomes back. The core
//! keeps them (`gateway::properties`) and decides who may read or change
//! them; this file only translates.

use axum::http::StatusCode;
use dav_server::fs::DavProp;
use gateway::properties::{DeadProperty, PropertyChange, PropertyOutcome};

/// A PROPPATCH item (`true` sets) as a change for the core.
pub fn change((set, prop): (bool, DavProp)) -> PropertyChange {
    let namespace = prop.namespace.unwrap_or_default();
    match set {
        true => PropertyChange::Set(DeadProperty { namespace, name: prop.name, value: prop.xml.unwrap_or_default() }),
        false => PropertyChange::Remove { namespace, name: prop.name },
    }
}

/// A property for dav-server, with its value or (`content` false) by name only.
pub fn dav_prop(p: &DeadProperty, content: bool) -> DavProp {
    DavProp {
        name: p.name.clone(),
        prefix: None,
        namespace: (!p.namespace.is_empty()).then(|| p.namespace.clone()),
        xml: content.then(|| p.value.clone()),
    }
}

/// Whether a property is the one dav-server asks for.
pub fn is(p: &DeadProperty, asked: &DavProp) -> bool {
    p.name == asked.name && p.namespace == asked.namespace.as_deref().unwrap_or_default()
}

/// The status of one change in the PROPPATCH's answer.
pub fn status_of(outcome: PropertyOutcome) -> StatusCode {
    match outcome {
        PropertyOutcome::Done => StatusCode::OK,
        PropertyOutcome::TooLarge | PropertyOutcome::NoRoom => StatusCode::INSUFFICIENT_STORAGE,
        PropertyOutcome::NotMade => StatusCode::FAILED_DEPENDENCY,
    }
}

/// A property as named in the answer (the value is not repeated).
pub fn named(prop: DavProp) -> DavProp {
    DavProp { xml: None, ..prop }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(namespace: Option<&str>, xml: Option<&[u8]>) -> DavProp {
        DavProp {
            name: "colour".into(),
            prefix: Some("x".into()),
            namespace: namespace.map(str::to_owned),
            xml: xml.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn every_outcome_has_a_status() {
        let cases = [
            (PropertyOutcome::Done, StatusCode::OK),
            (PropertyOutcome::TooLarge, StatusCode::INSUFFICIENT_STORAGE),
            (PropertyOutcome::NoRoom, StatusCode::INSUFFICIENT_STORAGE),
            (PropertyOutcome::NotMade, StatusCode::FAILED_DEPENDENCY),
        ];
        for (outcome, status) in cases {
            assert_eq!(status_of(outcome), status, "{outcome:?}");
        }
    }

    #[test]
    fn properties_go_to_the_core_and_come_back_the_same() {
        let xml = b"<x:colour xmlns:x=\"urn:x\">blue</x:colour>";
        let PropertyChange::Set(kept) = change((true, prop(Some("urn:x"), Some(xml)))) else {
            panic!("a set became a removal")
        };
        assert_eq!((kept.namespace.as_str(), kept.name.as_str(), kept.value.as_slice()), ("urn:x", "colour", &xml[..]));
        let back = dav_prop(&kept, true);
        assert_eq!((back.namespace.as_deref(), back.xml.as_deref()), (Some("urn:x"), Some(&xml[..])));
        assert!(is(&kept, &prop(Some("urn:x"), None)));
        assert!(!is(&kept, &prop(None, None)), "no namespace is another property");
        assert_eq!(dav_prop(&kept, false).xml, None);

        let removal = change((false, prop(None, None)));
        assert_eq!(removal, PropertyChange::Remove { namespace: String::new(), name: "colour".into() });
        let bare = DeadProperty { namespace: String::new(), name: "colour".into(), value: Vec::new() };
        assert_eq!(dav_prop(&bare, true).namespace, None, "the empty namespace is none");
    }
}
