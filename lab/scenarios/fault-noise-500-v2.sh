#!/bin/bash
# description: fault: fault-noise-500 with ESP-TOUCH v2 (`esptouch send --v2`): >= 500 noise frames a second on the channel (measured in a monitor capture); the device is provisioned
# timeout: 300
FAULT_METHOD=esptouch-v2 . "$(dirname "$0")/fault-noise-500.sh"
