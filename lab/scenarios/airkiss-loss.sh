#!/bin/bash
# description: AirKiss with 20 % loss on the phone's interface: still provisioned
AK_LOSS=20 . "$(dirname "$0")/airkiss-basic.sh"
