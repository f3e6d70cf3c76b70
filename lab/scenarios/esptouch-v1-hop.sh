#!/bin/bash
# description: ESP-TOUCH v1 with the AP on channel 11: the device starts hopping at channel 1 and still gets provisioned
ET_CHANNEL=11 . "$(dirname "$0")/esptouch-v1-basic.sh"
