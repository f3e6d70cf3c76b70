#!/bin/bash
# description: ESP-TOUCH v2 with 20 % loss on the phone's interface: still provisioned
V2_LOSS=20 . "$(dirname "$0")/esptouch-v2-basic.sh"
