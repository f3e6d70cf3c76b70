//! Wi-Fi provisioning endpoints (`prov-config`, `prov-scan`, `prov-ctrl`) on the plaintext side
//! of the session: [`Provisioner`] is the device's handler (ESP-IDF `wifi_provisioning`
//! semantics, spec §1.6 and §4.3), [`request`] and [`response`] are the client's encoders and
//! parsers. Sans-IO: what the device must do (join, scan, reset) comes out as an [`Action`].

use alloc::string::String;
use alloc::vec::Vec;

use prost::Message as _;
use zeroize::Zeroizing;

use crate::Error;
use crate::proto::wifi_provisioning::{
    CmdGetStatus, CmdScanResult, CmdScanStart, CmdSetConfig, RespApplyConfig, RespCtrlReprov,
    RespCtrlReset, RespGetStatus, RespScanResult, RespScanStart, RespScanStatus, RespSetConfig,
    WiFiConfigMsgType, WiFiConfigPayload, WiFiCtrlMsgType, WiFiCtrlPayload, WiFiScanMsgType,
    WiFiScanPayload, WiFiScanResult, WifiAttemptFailed, WifiConnectedState, WifiStationState,
    resp_get_status, wi_fi_config_payload, wi_fi_ctrl_payload, wi_fi_scan_payload,
};

/// protocomm `Status` values used in responses.
mod status {
    pub(super) const SUCCESS: i32 = 0;
    pub(super) const INVALID_ARGUMENT: i32 = 4;
    pub(super) const INTERNAL_ERROR: i32 = 5;
}

/// Why joining failed, as reported to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailReason {
    /// Wrong password (4-way handshake failed).
    AuthError,
    /// No AP with the SSID.
    NetworkNotFound,
    /// A value this implementation does not know (round-trips).
    Unknown(i32),
}

impl From<i32> for FailReason {
    fn from(value: i32) -> Self {
        match value {
            0 => Self::AuthError,
            1 => Self::NetworkNotFound,
            other => Self::Unknown(other),
        }
    }
}

impl From<FailReason> for i32 {
    fn from(value: FailReason) -> Self {
        match value {
            FailReason::AuthError => 0,
            FailReason::NetworkNotFound => 1,
            FailReason::Unknown(other) => other,
        }
    }
}

/// The station's state after joining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The device's IPv4 address.
    pub ip: [u8; 4],
    /// `wifi_auth_mode_t` of the network (0 open … 7 WPA2/WPA3-PSK).
    pub auth_mode: i32,
    /// SSID.
    pub ssid: Vec<u8>,
    /// BSSID of the AP.
    pub bssid: [u8; 6],
    /// Channel.
    pub channel: i32,
}

/// The station as the device reports it in `GetStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Station {
    /// No credentials applied yet (reported as `Disconnected`).
    Idle,
    /// Joining.
    Connecting,
    /// An attempt failed; more remain (reported as `Connecting` with `attempt_failed`).
    AttemptFailed {
        /// Attempts left.
        remaining: u32,
    },
    /// Joined with an address.
    Connected(Connected),
    /// Joining failed for good (reported as `ConnectionFailed`).
    Failed(FailReason),
    /// `Disconnected` reported by a device after it had joined.
    Disconnected,
}

/// Credentials received with `SetConfig`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// SSID (1..=32 bytes).
    pub ssid: Vec<u8>,
    /// Passphrase (0..=63 bytes).
    pub passphrase: Zeroizing<Vec<u8>>,
    /// BSSID, if the client gave one.
    pub bssid: Option<[u8; 6]>,
    /// Channel, if the client gave one (0 = none).
    pub channel: i32,
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials")
            .field("ssid", &String::from_utf8_lossy(&self.ssid))
            .field("passphrase_len", &self.passphrase.len())
            .field("bssid", &self.bssid)
            .field("channel", &self.channel)
            .finish()
    }
}

/// A scan request from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanRequest {
    /// Answer only after the scan.
    pub blocking: bool,
    /// Passive scan.
    pub passive: bool,
    /// Channels per group (0 = all at once).
    pub group_channels: u32,
    /// Dwell per channel in ms (0 = default).
    pub period_ms: u32,
}

/// One network in the scan list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEntry {
    /// SSID (at most 32 bytes are sent).
    pub ssid: Vec<u8>,
    /// Channel.
    pub channel: u32,
    /// Signal in dBm.
    pub rssi: i32,
    /// BSSID.
    pub bssid: [u8; 6],
    /// `wifi_auth_mode_t` (sent clamped to 0..=7: esp_prov indexes an 8-entry table).
    pub auth: i32,
}

/// What the device must do after a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Join this network (ApplyConfig), then report with [`Provisioner::set_station`].
    Apply(Credentials),
    /// Scan (ScanStart); report with [`Provisioner::set_scan_results`]. If `blocking`, the
    /// response should go out only after that.
    Scan(ScanRequest),
    /// The client reset a failed attempt: provisionable again.
    Reset,
    /// The client asked to provision again (prov-ctrl Reprov).
    Reprovision,
    /// The client read the final `Connected` status: provisioning is done.
    Done,
}

/// Device-side configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Most scan entries offered (ESP-IDF default 16).
    pub max_scan_entries: usize,
    /// Accept prov-ctrl Reprov (ESP-IDF: only when auto-stop is disabled).
    pub allow_reprovision: bool,
    /// Take new credentials (SetConfig) after a failed join as an implicit reset. ESP-IDF
    /// refuses them until prov-ctrl Reset, which esp_prov never sends unasked, so a user with
    /// a mistyped password had to restart the device (esp-idf #14552, #12844). Default: true.
    pub retry_after_failure: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_scan_entries: 16,
            allow_reprovision: false,
            retry_after_failure: true,
        }
    }
}

/// The device's handler for `prov-config`, `prov-scan` and `prov-ctrl`.
#[derive(Debug, Clone)]
pub struct Provisioner {
    config: Config,
    received: Option<Credentials>,
    applied: bool,
    station: Station,
    done_reported: bool,
    scan: Vec<ScanEntry>,
    scan_finished: bool,
}

fn decode_err(_: prost::DecodeError) -> Error {
    Error::InvalidMessage("provisioning message does not decode")
}

impl Provisioner {
    /// A provisioner waiting for credentials.
    #[must_use]
    pub fn new(config: Config) -> Self {
        Self {
            config,
            received: None,
            applied: false,
            station: Station::Idle,
            done_reported: false,
            scan: Vec::new(),
            scan_finished: false,
        }
    }

    /// The station state the runtime reported last.
    #[must_use]
    pub fn station(&self) -> &Station {
        &self.station
    }

    /// The runtime reports joining progress; a failure stays until the client resets it.
    pub fn set_station(&mut self, station: Station) {
        self.station = station;
    }

    /// The runtime provides scan results (sorted here by RSSI, strongest first, and cut to the
    /// configured maximum).
    pub fn set_scan_results(&mut self, mut results: Vec<ScanEntry>) {
        results.sort_by_key(|e| core::cmp::Reverse(e.rssi));
        results.truncate(self.config.max_scan_entries);
        self.scan = results;
        self.scan_finished = true;
    }

    /// The scan list offered to clients (sorted, capped).
    #[must_use]
    pub fn scan_results(&self) -> &[ScanEntry] {
        &self.scan
    }

    /// Credentials from another channel than `prov-config` (the captive portal): the same
    /// checks and state changes as SetConfig followed by ApplyConfig.
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] if the SSID/passphrase lengths are invalid or the device is
    /// already joining or joined.
    pub fn apply(&mut self, ssid: &[u8], passphrase: &[u8]) -> Result<Action, Error> {
        let status = self.set_config(CmdSetConfig {
            ssid: ssid.to_vec(),
            passphrase: passphrase.to_vec(),
            bssid: Vec::new(),
            channel: 0,
        });
        match (status, &self.received) {
            (status::SUCCESS, Some(credentials)) => {
                self.applied = true;
                self.station = Station::Connecting;
                Ok(Action::Apply(credentials.clone()))
            }
            (status::INVALID_ARGUMENT, _) => Err(Error::PeerMisbehaved(
                "the SSID must be 1..32 bytes and the passphrase at most 63",
            )),
            _ => Err(Error::PeerMisbehaved(
                "the device is already joining a network",
            )),
        }
    }

    /// Back to waiting for credentials (after a failure, or to provision again).
    pub fn reset(&mut self) {
        self.received = None;
        self.applied = false;
        self.station = Station::Idle;
        self.done_reported = false;
    }

    /// Handles a decrypted `prov-config` request; returns the plaintext response.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for bytes that do not decode or an unknown message type: the
    /// transport closes the connection without a response (as ESP-IDF).
    pub fn handle_config(&mut self, request: &[u8]) -> Result<(Vec<u8>, Option<Action>), Error> {
        let payload = WiFiConfigPayload::decode(request).map_err(decode_err)?;
        use wi_fi_config_payload::Payload;
        // ESP-IDF dispatches on `msg` alone: esp_prov leaves empty commands' oneof unset
        // (ApplyConfig is just `08 04`).
        let (msg, payload, action) = match (payload.msg, payload.payload) {
            (m, _) if m == WiFiConfigMsgType::TypeCmdGetStatus as i32 => {
                let (resp, action) = self.status_response();
                (
                    WiFiConfigMsgType::TypeRespGetStatus,
                    Payload::RespGetStatus(resp),
                    action,
                )
            }
            (m, payload) if m == WiFiConfigMsgType::TypeCmdSetConfig as i32 => {
                let cmd = match payload {
                    Some(Payload::CmdSetConfig(cmd)) => cmd,
                    _ => CmdSetConfig::default(),
                };
                let status = self.set_config(cmd);
                (
                    WiFiConfigMsgType::TypeRespSetConfig,
                    Payload::RespSetConfig(RespSetConfig { status }),
                    None,
                )
            }
            (m, _) if m == WiFiConfigMsgType::TypeCmdApplyConfig as i32 => {
                let (status, action) = match (&self.received, self.applied) {
                    (Some(credentials), false) => {
                        self.applied = true;
                        self.station = Station::Connecting;
                        (status::SUCCESS, Some(Action::Apply(credentials.clone())))
                    }
                    _ => (status::INTERNAL_ERROR, None),
                };
                (
                    WiFiConfigMsgType::TypeRespApplyConfig,
                    Payload::RespApplyConfig(RespApplyConfig { status }),
                    action,
                )
            }
            _ => return Err(Error::InvalidMessage("unknown prov-config message")),
        };
        let response = WiFiConfigPayload {
            msg: msg as i32,
            payload: Some(payload),
        };
        Ok((response.encode_to_vec(), action))
    }

    fn set_config(&mut self, mut cmd: CmdSetConfig) -> i32 {
        // `cmd` wipes its passphrase when dropped (a rejected one too); the accepted one moves
        // into `Zeroizing` without a copy.
        if !(cmd.bssid.is_empty() || cmd.bssid.len() == 6)
            || cmd.ssid.is_empty()
            || cmd.ssid.len() > 32
            || cmd.passphrase.len() > 63
        {
            return status::INVALID_ARGUMENT;
        }
        if self.applied {
            let failed = matches!(self.station, Station::Failed(_));
            if !(failed && self.config.retry_after_failure) {
                // Joining or joined (or ESP-IDF's strict mode): a reset comes first.
                return status::INTERNAL_ERROR;
            }
            self.reset();
        }
        let mut bssid = [0u8; 6];
        let has_bssid = cmd.bssid.len() == 6;
        if has_bssid {
            bssid.copy_from_slice(&cmd.bssid);
        }
        self.received = Some(Credentials {
            ssid: core::mem::take(&mut cmd.ssid),
            passphrase: Zeroizing::new(core::mem::take(&mut cmd.passphrase)),
            bssid: has_bssid.then_some(bssid),
            channel: cmd.channel,
        });
        status::SUCCESS
    }

    fn status_response(&mut self) -> (RespGetStatus, Option<Action>) {
        use resp_get_status::State;
        let (sta_state, state, action) = match &self.station {
            Station::Idle | Station::Disconnected => (WifiStationState::Disconnected, None, None),
            Station::Connecting => (WifiStationState::Connecting, None, None),
            Station::AttemptFailed { remaining } => (
                WifiStationState::Connecting,
                Some(State::AttemptFailed(WifiAttemptFailed {
                    attempts_remaining: *remaining,
                })),
                None,
            ),
            Station::Connected(c) => {
                let first = !self.done_reported;
                self.done_reported = true;
                (
                    WifiStationState::Connected,
                    Some(State::Connected(WifiConnectedState {
                        ip4_addr: alloc::format!("{}.{}.{}.{}", c.ip[0], c.ip[1], c.ip[2], c.ip[3]),
                        auth_mode: c.auth_mode,
                        ssid: c.ssid.clone(),
                        bssid: c.bssid.to_vec(),
                        channel: c.channel,
                    })),
                    first.then_some(Action::Done),
                )
            }
            Station::Failed(reason) => (
                WifiStationState::ConnectionFailed,
                Some(State::FailReason((*reason).into())),
                None,
            ),
        };
        (
            RespGetStatus {
                status: status::SUCCESS,
                sta_state: sta_state as i32,
                state,
            },
            action,
        )
    }

    /// Handles a decrypted `prov-scan` request.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for undecodable bytes, an unknown message type or a result
    /// range outside the list (ESP-IDF fails the request).
    pub fn handle_scan(&mut self, request: &[u8]) -> Result<(Vec<u8>, Option<Action>), Error> {
        let payload = WiFiScanPayload::decode(request).map_err(decode_err)?;
        use wi_fi_scan_payload::Payload;
        let (msg, payload, action) = match (payload.msg, payload.payload) {
            (m, payload) if m == WiFiScanMsgType::TypeCmdScanStart as i32 => {
                let cmd = match payload {
                    Some(Payload::CmdScanStart(cmd)) => cmd,
                    _ => CmdScanStart::default(),
                };
                (
                    WiFiScanMsgType::TypeRespScanStart,
                    Payload::RespScanStart(RespScanStart {}),
                    Some(Action::Scan(ScanRequest {
                        blocking: cmd.blocking,
                        passive: cmd.passive,
                        group_channels: cmd.group_channels,
                        period_ms: cmd.period_ms,
                    })),
                )
            }
            (m, _) if m == WiFiScanMsgType::TypeCmdScanStatus as i32 => (
                WiFiScanMsgType::TypeRespScanStatus,
                Payload::RespScanStatus(RespScanStatus {
                    scan_finished: self.scan_finished,
                    result_count: u32::try_from(self.scan.len()).unwrap_or(u32::MAX),
                }),
                None,
            ),
            (m, payload) if m == WiFiScanMsgType::TypeCmdScanResult as i32 => {
                let cmd = match payload {
                    Some(Payload::CmdScanResult(cmd)) => cmd,
                    _ => CmdScanResult::default(),
                };
                let start = usize::try_from(cmd.start_index).unwrap_or(usize::MAX);
                let count = usize::try_from(cmd.count).unwrap_or(usize::MAX);
                let total = self.scan.len();
                if start >= total || count > total - start {
                    return Err(Error::InvalidMessage("scan result range outside the list"));
                }
                let entries = self.scan[start..start + count]
                    .iter()
                    .map(|e| WiFiScanResult {
                        ssid: e.ssid.iter().copied().take(32).collect(),
                        channel: e.channel,
                        rssi: e.rssi,
                        bssid: e.bssid.to_vec(),
                        auth: e.auth.clamp(0, 7),
                    })
                    .collect();
                (
                    WiFiScanMsgType::TypeRespScanResult,
                    Payload::RespScanResult(RespScanResult { entries }),
                    None,
                )
            }
            _ => return Err(Error::InvalidMessage("unknown prov-scan message")),
        };
        let response = WiFiScanPayload {
            msg: msg as i32,
            status: status::SUCCESS,
            payload: Some(payload),
        };
        Ok((response.encode_to_vec(), action))
    }

    /// Handles a decrypted `prov-ctrl` request. Reset is accepted after a failure (or when
    /// nothing was applied yet); Reprov only if the configuration allows it.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for undecodable bytes or an unknown message type.
    pub fn handle_ctrl(&mut self, request: &[u8]) -> Result<(Vec<u8>, Option<Action>), Error> {
        let payload = WiFiCtrlPayload::decode(request).map_err(decode_err)?;
        use wi_fi_ctrl_payload::Payload;
        let (msg, payload, status, action) = match (payload.msg, payload.payload) {
            (m, _) if m == WiFiCtrlMsgType::TypeCmdCtrlReset as i32 => {
                let resettable = matches!(self.station, Station::Failed(_) | Station::Idle);
                let action = resettable.then(|| {
                    self.reset();
                    Action::Reset
                });
                (
                    WiFiCtrlMsgType::TypeRespCtrlReset,
                    Payload::RespCtrlReset(RespCtrlReset {}),
                    if resettable {
                        status::SUCCESS
                    } else {
                        status::INTERNAL_ERROR
                    },
                    action,
                )
            }
            (m, _) if m == WiFiCtrlMsgType::TypeCmdCtrlReprov as i32 => {
                let allowed = self.config.allow_reprovision;
                let action = allowed.then(|| {
                    self.reset();
                    Action::Reprovision
                });
                (
                    WiFiCtrlMsgType::TypeRespCtrlReprov,
                    Payload::RespCtrlReprov(RespCtrlReprov {}),
                    if allowed {
                        status::SUCCESS
                    } else {
                        status::INTERNAL_ERROR
                    },
                    action,
                )
            }
            _ => return Err(Error::InvalidMessage("unknown prov-ctrl message")),
        };
        let response = WiFiCtrlPayload {
            msg: msg as i32,
            status,
            payload: Some(payload),
        };
        Ok((response.encode_to_vec(), action))
    }
}

/// Client requests (plaintext; encrypt them with the session's cipher).
pub mod request {
    use super::*;

    /// `prov-config` GetStatus.
    #[must_use]
    pub fn get_status() -> Vec<u8> {
        WiFiConfigPayload {
            msg: WiFiConfigMsgType::TypeCmdGetStatus as i32,
            payload: Some(wi_fi_config_payload::Payload::CmdGetStatus(CmdGetStatus {})),
        }
        .encode_to_vec()
    }

    /// `prov-config` SetConfig.
    #[must_use]
    pub fn set_config(
        ssid: &[u8],
        passphrase: &[u8],
        bssid: Option<[u8; 6]>,
        channel: i32,
    ) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(
            WiFiConfigPayload {
                msg: WiFiConfigMsgType::TypeCmdSetConfig as i32,
                payload: Some(wi_fi_config_payload::Payload::CmdSetConfig(CmdSetConfig {
                    ssid: ssid.to_vec(),
                    passphrase: passphrase.to_vec(),
                    bssid: bssid.map(|b| b.to_vec()).unwrap_or_default(),
                    channel,
                })),
            }
            .encode_to_vec(),
        )
    }

    /// `prov-config` ApplyConfig (`08 04`: like esp_prov, the empty command is left unset).
    #[must_use]
    pub fn apply_config() -> Vec<u8> {
        WiFiConfigPayload {
            msg: WiFiConfigMsgType::TypeCmdApplyConfig as i32,
            payload: None,
        }
        .encode_to_vec()
    }

    /// `prov-scan` ScanStart.
    #[must_use]
    pub fn scan_start(scan: ScanRequest) -> Vec<u8> {
        WiFiScanPayload {
            msg: WiFiScanMsgType::TypeCmdScanStart as i32,
            status: 0,
            payload: Some(wi_fi_scan_payload::Payload::CmdScanStart(CmdScanStart {
                blocking: scan.blocking,
                passive: scan.passive,
                group_channels: scan.group_channels,
                period_ms: scan.period_ms,
            })),
        }
        .encode_to_vec()
    }

    /// `prov-scan` ScanStatus (empty command left unset, like esp_prov).
    #[must_use]
    pub fn scan_status() -> Vec<u8> {
        WiFiScanPayload {
            msg: WiFiScanMsgType::TypeCmdScanStatus as i32,
            status: 0,
            payload: None,
        }
        .encode_to_vec()
    }

    /// `prov-scan` ScanResult for `count` entries from `start`.
    #[must_use]
    pub fn scan_result(start: u32, count: u32) -> Vec<u8> {
        WiFiScanPayload {
            msg: WiFiScanMsgType::TypeCmdScanResult as i32,
            status: 0,
            payload: Some(wi_fi_scan_payload::Payload::CmdScanResult(CmdScanResult {
                start_index: start,
                count,
            })),
        }
        .encode_to_vec()
    }

    /// `prov-ctrl` Reset (empty command left unset, like esp_prov).
    #[must_use]
    pub fn reset() -> Vec<u8> {
        WiFiCtrlPayload {
            msg: WiFiCtrlMsgType::TypeCmdCtrlReset as i32,
            status: 0,
            payload: None,
        }
        .encode_to_vec()
    }

    /// `prov-ctrl` Reprov (empty command left unset, like esp_prov).
    #[must_use]
    pub fn reprovision() -> Vec<u8> {
        WiFiCtrlPayload {
            msg: WiFiCtrlMsgType::TypeCmdCtrlReprov as i32,
            status: 0,
            payload: None,
        }
        .encode_to_vec()
    }
}

/// Client-side parsing of the device's (decrypted) responses.
pub mod response {
    use super::*;

    fn status_ok(status: i32, what: &'static str) -> Result<(), Error> {
        if status == status::SUCCESS {
            Ok(())
        } else {
            Err(Error::PeerMisbehaved(what))
        }
    }

    /// GetStatus → the station state.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] / [`Error::PeerMisbehaved`] for a malformed or failed response.
    pub fn status(bytes: &[u8]) -> Result<Station, Error> {
        let payload = WiFiConfigPayload::decode(bytes).map_err(decode_err)?;
        let Some(wi_fi_config_payload::Payload::RespGetStatus(resp)) = payload.payload else {
            return Err(Error::PeerMisbehaved("expected RespGetStatus"));
        };
        status_ok(resp.status, "GetStatus failed")?;
        use resp_get_status::State;
        Ok(match (resp.sta_state, resp.state) {
            (0, Some(State::Connected(c))) => {
                let ip = c
                    .ip4_addr
                    .split('.')
                    .map(|p| p.parse::<u8>().ok())
                    .collect::<Option<Vec<u8>>>()
                    .and_then(|v| <[u8; 4]>::try_from(v).ok())
                    .unwrap_or([0; 4]);
                let mut bssid = [0u8; 6];
                if c.bssid.len() == 6 {
                    bssid.copy_from_slice(&c.bssid);
                }
                Station::Connected(Connected {
                    ip,
                    auth_mode: c.auth_mode,
                    ssid: c.ssid,
                    bssid,
                    channel: c.channel,
                })
            }
            (0, _) => Station::Connected(Connected {
                ip: [0; 4],
                auth_mode: 0,
                ssid: Vec::new(),
                bssid: [0; 6],
                channel: 0,
            }),
            (1, Some(State::AttemptFailed(a))) => Station::AttemptFailed {
                remaining: a.attempts_remaining,
            },
            (1, _) => Station::Connecting,
            (2, _) => Station::Disconnected,
            (3, Some(State::FailReason(r))) => Station::Failed(r.into()),
            (3, _) => Station::Failed(FailReason::Unknown(-1)),
            _ => return Err(Error::PeerMisbehaved("unknown station state")),
        })
    }

    /// SetConfig → Ok if accepted.
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] if the device refused (e.g. `InvalidArgument`).
    pub fn set_config(bytes: &[u8]) -> Result<(), Error> {
        let payload = WiFiConfigPayload::decode(bytes).map_err(decode_err)?;
        match payload.payload {
            Some(wi_fi_config_payload::Payload::RespSetConfig(r)) => {
                status_ok(r.status, "the device refused the configuration")
            }
            _ => Err(Error::PeerMisbehaved("expected RespSetConfig")),
        }
    }

    /// ApplyConfig → Ok if accepted.
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] if the device refused.
    pub fn apply_config(bytes: &[u8]) -> Result<(), Error> {
        let payload = WiFiConfigPayload::decode(bytes).map_err(decode_err)?;
        match payload.payload {
            Some(wi_fi_config_payload::Payload::RespApplyConfig(r)) => {
                status_ok(r.status, "the device refused to apply the configuration")
            }
            _ => Err(Error::PeerMisbehaved("expected RespApplyConfig")),
        }
    }

    /// ScanStart → Ok.
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] on a failure status.
    pub fn scan_start(bytes: &[u8]) -> Result<(), Error> {
        let payload = WiFiScanPayload::decode(bytes).map_err(decode_err)?;
        status_ok(payload.status, "the device refused to scan")?;
        match payload.payload {
            Some(wi_fi_scan_payload::Payload::RespScanStart(_)) => Ok(()),
            _ => Err(Error::PeerMisbehaved("expected RespScanStart")),
        }
    }

    /// ScanStatus → (finished, result count).
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] on a failure status.
    pub fn scan_status(bytes: &[u8]) -> Result<(bool, u32), Error> {
        let payload = WiFiScanPayload::decode(bytes).map_err(decode_err)?;
        status_ok(payload.status, "scan status failed")?;
        match payload.payload {
            Some(wi_fi_scan_payload::Payload::RespScanStatus(r)) => {
                Ok((r.scan_finished, r.result_count))
            }
            _ => Err(Error::PeerMisbehaved("expected RespScanStatus")),
        }
    }

    /// ScanResult → entries.
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] on a failure status.
    pub fn scan_result(bytes: &[u8]) -> Result<Vec<ScanEntry>, Error> {
        let payload = WiFiScanPayload::decode(bytes).map_err(decode_err)?;
        status_ok(payload.status, "scan result failed")?;
        match payload.payload {
            Some(wi_fi_scan_payload::Payload::RespScanResult(r)) => Ok(r
                .entries
                .into_iter()
                .map(|e| {
                    let mut bssid = [0u8; 6];
                    if e.bssid.len() == 6 {
                        bssid.copy_from_slice(&e.bssid);
                    }
                    ScanEntry {
                        ssid: e.ssid,
                        channel: e.channel,
                        rssi: e.rssi,
                        bssid,
                        auth: e.auth,
                    }
                })
                .collect()),
            _ => Err(Error::PeerMisbehaved("expected RespScanResult")),
        }
    }

    /// prov-ctrl Reset / Reprov → Ok if accepted.
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] if the device refused.
    pub fn ctrl(bytes: &[u8]) -> Result<(), Error> {
        let payload = WiFiCtrlPayload::decode(bytes).map_err(decode_err)?;
        status_ok(payload.status, "the device refused the control command")?;
        match payload.payload {
            Some(
                wi_fi_ctrl_payload::Payload::RespCtrlReset(_)
                | wi_fi_ctrl_payload::Payload::RespCtrlReprov(_),
            ) => Ok(()),
            _ => Err(Error::PeerMisbehaved("expected a prov-ctrl response")),
        }
    }
}

/// The `proto-ver` JSON a device returns, in cJSON_Print's layout (tabs and newlines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoVer {
    /// `prov.ver` (`v1.1` for wifi_provisioning).
    pub version: String,
    /// `prov.sec_ver`.
    pub security: u8,
    /// `prov.sec_patch_ver` (`None` = omitted, as old firmware).
    pub patch: Option<u8>,
    /// `prov.cap`.
    pub capabilities: Vec<String>,
}

impl ProtoVer {
    /// The capabilities ESP-IDF's manager advertises: `no_sec` for security 0, `no_pop` for
    /// security 1 without a PoP, then `wifi_scan`.
    #[must_use]
    pub fn capabilities_for(security: u8, has_pop: bool) -> Vec<String> {
        let mut caps = Vec::new();
        if security == 0 {
            caps.push(String::from("no_sec"));
        } else if security == 1 && !has_pop {
            caps.push(String::from("no_pop"));
        }
        caps.push(String::from("wifi_scan"));
        caps
    }

    /// The JSON body (strings are escaped for JSON).
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::from("{\n\t\"prov\":\t{\n");
        out.push_str(&alloc::format!(
            "\t\t\"ver\":\t{},\n",
            json_string(&self.version)
        ));
        out.push_str(&alloc::format!("\t\t\"sec_ver\":\t{},\n", self.security));
        if let Some(patch) = self.patch {
            out.push_str(&alloc::format!("\t\t\"sec_patch_ver\":\t{patch},\n"));
        }
        let caps: Vec<String> = self.capabilities.iter().map(|c| json_string(c)).collect();
        out.push_str(&alloc::format!(
            "\t\t\"cap\":\t[{}]\n\t}}\n}}",
            caps.join(", ")
        ));
        out
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&alloc::format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
