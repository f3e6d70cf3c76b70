#!/bin/bash
# description: AirKiss with the AP on channel 13: the device starts hopping at channel 1 and still gets provisioned
AK_CHANNEL=13 . "$(dirname "$0")/airkiss-basic.sh"
