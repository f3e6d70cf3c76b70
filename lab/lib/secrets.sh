# Secrets hygiene, for every method's scenario: source after guest.sh.
#
# lab_no_secrets SECRET... — a check: no file wifiprov wrote in $LAB_OUT (outputs, logs, JSON
# events, hook logs, timing reports) holds any of the secrets, as text, hex or base64 (see
# secrets.py for what is skipped: third-party daemon logs, captures, the QR payload). Call it
# last, before lab_finish.
lab_no_secrets() {
    lab_check no_secrets_in_outputs python3 "$LAB_LIBDIR/secrets.py" "$LAB_OUT" "$@"
}
