#!/bin/sh
# posture-agent device report for macOS and Linux (POSIX sh; needs curl and openssl).
# Environment: POSTURE_URL (agent base URL), POSTURE_DEVICE_ID, POSTURE_DEVICE_KEY,
# optional POSTURE_SOURCE (push source name), POSTURE_OWNER. `--dry-run` prints the JSON only.
# Unknown values are reported as null; the agent turns them into "error", never "pass".
set -eu

os=$(uname -s)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
host=$(hostname 2>/dev/null || uname -n)
device=${POSTURE_DEVICE_ID:-$host}
owner=${POSTURE_OWNER:-}

json_str() { # a JSON string or null
    if [ -z "${1:-}" ]; then printf 'null'; else printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; fi
}
running() { pgrep -x "$1" >/dev/null 2>&1; }
active() { command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$1" 2>/dev/null; }

av=""
add_av() { # product enabled
    entry="{\"product\":$(json_str "$1"),\"enabled\":$2,\"up_to_date\":null,\"definitions_updated\":null}"
    if [ -z "$av" ]; then av="$entry"; else av="$av,$entry"; fi
}
edr=""
add_edr() { # product running (known EDR sensors only; none found reports an empty list)
    entry="{\"product\":$(json_str "$1"),\"running\":$2,\"last_connected\":null}"
    if [ -z "$edr" ]; then edr="$entry"; else edr="$edr,$entry"; fi
}
mdm_enrolled=null
pending=null
tamper=null
# Microsoft Defender for Endpoint (macOS and Linux): tamper protection, and EDR onboarding
if command -v mdatp >/dev/null 2>&1; then
    case "$(mdatp health --field tamper_protection 2>/dev/null | tr -d '"')" in
        block) tamper=true ;; audit|disabled) tamper=false ;; esac
    [ -n "$(mdatp health --field edr_machine_id 2>/dev/null | tr -d '" ')" ] && add_edr "Microsoft Defender for Endpoint" true
fi

if [ "$os" = "Darwin" ]; then
    platform=macos
    os_name="macOS"; os_version=$(sw_vers -productVersion); os_build=$(sw_vers -buildVersion)
    serial=$(ioreg -rd1 -c IOPlatformExpertDevice 2>/dev/null | awk -F'"' '/IOPlatformSerialNumber/{print $4}')
    case "$(fdesetup status 2>/dev/null)" in *"FileVault is On"*) disk=true ;; *"FileVault is Off"*) disk=false ;; *) disk=null ;; esac
    fw_state=$(/usr/libexec/ApplicationFirewall/socketfilterfw --getglobalstate 2>/dev/null || true)
    case "$fw_state" in *enabled*) firewall=true ;; *disabled*) firewall=false ;; *) firewall=null ;; esac
    # screen lock: idle time before the screen saver / display sleep, and whether a password is asked at once
    idle=$(defaults -currentHost read com.apple.screensaver idleTime 2>/dev/null || echo "")
    [ -n "$idle" ] || idle=$(pmset -g 2>/dev/null | awk '/ displaysleep /{print $2 * 60}')
    lock=${idle:-}
    [ -d /Library/Apple/System/Library/CoreServices/XProtect.bundle ] && add_av "XProtect" true
    running falcond && add_av "CrowdStrike Falcon" true
    running wdavdaemon && add_av "Microsoft Defender" true
    running SentinelAgent && add_av "SentinelOne" true
    running falcond && add_edr "CrowdStrike Falcon" true
    running SentinelAgent && add_edr "SentinelOne" true
    case "$(profiles status -type enrollment 2>/dev/null)" in
        *"MDM enrollment: Yes"*) mdm_enrolled=true ;; *"MDM enrollment: No"*) mdm_enrolled=false ;; esac
    last_update=$(softwareupdate --history 2>/dev/null | awk 'NR>2 {print $(NF-1)}' | sort -r | head -1)
    [ -n "$last_update" ] && last_update=$(date -j -u -f %m/%d/%Y "$last_update" +%Y-%m-%dT00:00:00Z 2>/dev/null || echo "")
else
    platform=linux
    . /etc/os-release 2>/dev/null || true
    os_name=${NAME:-Linux}; os_version=${VERSION_ID:-}; os_build=$(uname -r)
    serial=$(cat /sys/class/dmi/id/product_serial 2>/dev/null || echo "")
    root_dev=$(findmnt -no SOURCE / 2>/dev/null || echo "")
    if lsblk -rno TYPE,MOUNTPOINT 2>/dev/null | grep -q '^crypt' || \
       { [ -n "$root_dev" ] && lsblk -sno TYPE "$root_dev" 2>/dev/null | grep -q crypt; }; then disk=true
    elif command -v lsblk >/dev/null 2>&1; then disk=false
    else disk=null; fi
    if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q "Status: active"; then firewall=true
    elif active firewalld; then firewall=true
    elif command -v nft >/dev/null 2>&1 && [ -n "$(nft list ruleset 2>/dev/null)" ]; then firewall=true
    elif command -v ufw >/dev/null 2>&1 || command -v firewall-cmd >/dev/null 2>&1; then firewall=false
    else firewall=null; fi
    lock=""
    if command -v gsettings >/dev/null 2>&1; then
        enabled=$(gsettings get org.gnome.desktop.screensaver lock-enabled 2>/dev/null || echo "")
        delay=$(gsettings get org.gnome.desktop.session idle-delay 2>/dev/null | awk '{print $NF}')
        if [ "$enabled" = "false" ]; then lock=0; elif [ -n "$delay" ]; then lock=$delay; fi
    fi
    { active clamav-daemon || running clamd; } && add_av "ClamAV" true
    { active mdatp || running wdavdaemon; } && add_av "Microsoft Defender" true
    { active falcon-sensor || running falcon-sensor; } && add_av "CrowdStrike Falcon" true
    { active sentinelone || running sentinelone-agent; } && add_av "SentinelOne" true
    { active falcon-sensor || running falcon-sensor; } && add_edr "CrowdStrike Falcon" true
    { active sentinelone || running sentinelone-agent; } && add_edr "SentinelOne" true
    if command -v apt-get >/dev/null 2>&1; then  # updates the package manager would install now
        pending=$(apt-get -s -o Debug::NoLocking=1 upgrade 2>/dev/null | grep -c '^Inst ' || true)
    fi
    last_update=""
    if [ -f /var/log/apt/history.log ]; then
        last_update=$(awk '/^End-Date:/{d=$2} END{print d}' /var/log/apt/history.log)
    elif command -v rpm >/dev/null 2>&1; then
        last_update=$(rpm -qa --last 2>/dev/null | head -1 | awk '{$1=""; print}' | xargs -I{} date -u -d "{}" +%Y-%m-%d 2>/dev/null || true)
    fi
    [ -n "$last_update" ] && last_update="${last_update}T00:00:00Z"
fi

lock_json=null
case "${lock:-}" in ''|*[!0-9]*) ;; *) lock_json=$lock ;; esac
body=$(printf '{"schema_version":1,"device_id":%s,"hostname":%s,"owner":%s,"serial":%s,"platform":"%s",' \
    "$(json_str "$device")" "$(json_str "$host")" "$(json_str "$owner")" "$(json_str "${serial:-}")" "$platform")
case "${pending:-}" in ''|*[!0-9]*) pending=null ;; esac
body="$body$(printf '"os":{"name":%s,"version":%s,"build":%s,"supported":null,"last_update":%s,"pending_updates":%s},' \
    "$(json_str "$os_name")" "$(json_str "$os_version")" "$(json_str "$os_build")" "$(json_str "${last_update:-}")" \
    "$pending")"
body="$body$(printf '"antivirus":[%s],"disk_encryption":%s,"firewall":%s,"screen_lock_seconds":%s,' \
    "$av" "$disk" "$firewall" "$lock_json")"
body="$body$(printf '"edr":[%s],"mdm":{"enrolled":%s,"provider":null},"tamper_protection":%s,' \
    "$edr" "$mdm_enrolled" "$tamper")"
body="$body$(printf '"collected_at":"%s","agent":"posture-report.sh/1"}' "$now")"

if [ "${1:-}" = "--dry-run" ]; then printf '%s\n' "$body"; exit 0; fi

: "${POSTURE_URL:?set POSTURE_URL}" "${POSTURE_DEVICE_KEY:?set POSTURE_DEVICE_KEY}"
ts=$(date +%s)
nonce=$(openssl rand -hex 16)
sig=$( { printf '%s\n%s\n%s\n' "$ts" "$nonce" "$device"; printf '%s' "$body"; } |
       openssl dgst -sha256 -hmac "$POSTURE_DEVICE_KEY" -r | cut -d' ' -f1)
# a retry sends the very same signed request: the agent answers it with the first delivery's 202
curl --fail-with-body -sS --retry 3 --max-time 60 -X POST "${POSTURE_URL%/}/v1/devices" \
    -H "Content-Type: application/json" -H "X-Posture-Device: $device" -H "X-Posture-Timestamp: $ts" \
    -H "X-Posture-Nonce: $nonce" -H "X-Posture-Signature: $sig" \
    ${POSTURE_SOURCE:+-H "X-Posture-Source: $POSTURE_SOURCE"} --data-binary "$body"  # a string, so a retry resends it
echo
