#!/bin/bash
# description: AirKiss with SSID + password shorter than 16 bytes in total (the 0x08 magic case); the device answers with ESP-IDF's 7-byte ack (random byte + MAC), which the phone reports
AK_SSID='Lab5' AK_PASS='pass1234' AK_DEVICE_ARGS='--airkiss-ack esp-idf' AK_EXPECT_MAC=1 \
    . "$(dirname "$0")/airkiss-basic.sh"
