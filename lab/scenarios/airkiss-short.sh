#!/bin/bash
# description: AirKiss with SSID + password shorter than 16 bytes in total (the 0x08 magic case)
AK_SSID='Lab5' AK_PASS='pass1234' . "$(dirname "$0")/airkiss-basic.sh"
