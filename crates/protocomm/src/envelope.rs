//! The `prov-session` envelope (`SessionData`): one scheme per session, checked both ways.

use alloc::vec::Vec;

use prost::Message as _;

use crate::Error;
use crate::proto::protocomm::session_data::Proto;
use crate::proto::protocomm::{SecSchemeVersion, SessionData};

/// Encodes `proto` under scheme `version`.
pub(crate) fn encode(version: SecSchemeVersion, proto: Proto) -> Vec<u8> {
    SessionData {
        sec_ver: version as i32,
        proto: Some(proto),
    }
    .encode_to_vec()
}

/// Decodes a `SessionData` that must carry scheme `version` (both the `sec_ver` field and the
/// payload case), as ESP-IDF's device does.
pub(crate) fn decode(bytes: &[u8], version: SecSchemeVersion) -> Result<Proto, Error> {
    let data = SessionData::decode(bytes)?;
    if data.sec_ver != version as i32 {
        return Err(Error::PeerMisbehaved("another security scheme (sec_ver)"));
    }
    let proto = data
        .proto
        .ok_or(Error::InvalidMessage("SessionData without a payload"))?;
    let matches = matches!(
        (&proto, version),
        (Proto::Sec0(_), SecSchemeVersion::SecScheme0)
            | (Proto::Sec1(_), SecSchemeVersion::SecScheme1)
            | (Proto::Sec2(_), SecSchemeVersion::SecScheme2)
    );
    if matches {
        Ok(proto)
    } else {
        Err(Error::PeerMisbehaved("another security scheme (payload)"))
    }
}

/// A response must say `Success`.
pub(crate) fn check_status(status: i32) -> Result<(), Error> {
    if status == 0 {
        Ok(())
    } else {
        Err(Error::PeerMisbehaved(
            "the device answered with a failure status",
        ))
    }
}
