# posture-agent device report for Windows (PowerShell 5.1+, run as SYSTEM or an administrator).
# Environment: POSTURE_URL, POSTURE_DEVICE_ID (default: computer name), POSTURE_DEVICE_KEY,
# optional POSTURE_SOURCE, POSTURE_OWNER. -DryRun prints the JSON only. Unknown values are null.
param([switch]$DryRun)
$ErrorActionPreference = 'Stop'

function Try-Get([scriptblock]$Block) { try { & $Block } catch { $null } }
function Iso($When) { if ($null -eq $When) { $null } else { ([datetime]$When).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ") } }

$os = Get-CimInstance Win32_OperatingSystem
$device = if ($env:POSTURE_DEVICE_ID) { $env:POSTURE_DEVICE_ID } else { $env:COMPUTERNAME }

$mp = Try-Get { Get-MpComputerStatus }
$antivirus = @()
if ($mp) {
    # AMRunningMode: 'Normal', 'Passive Mode' (another antivirus is primary), 'EDR Block Mode', 'SxS Passive Mode'
    $passive = if ($mp.AMRunningMode) { [bool]($mp.AMRunningMode -like '*Passive*') } else { $null }
    $antivirus += [ordered]@{ product = 'Microsoft Defender'; enabled = [bool]($mp.AntivirusEnabled -and $mp.RealTimeProtectionEnabled)
        up_to_date = [bool]($mp.AntivirusSignatureAge -le 7); definitions_updated = (Iso $mp.AntivirusSignatureLastUpdated)
        passive = $passive }
}
$tamper = if ($mp -and $null -ne $mp.IsTamperProtected) { [bool]$mp.IsTamperProtected } else { $null }
# EDR sensors by service (known products only; none found reports an empty list)
$edr = @()
foreach ($s in @(@('Sense', 'Microsoft Defender for Endpoint'), @('CSFalconService', 'CrowdStrike Falcon'),
                 @('SentinelAgent', 'SentinelOne'), @('CbDefense', 'VMware Carbon Black'), @('cyserver', 'Cortex XDR'))) {
    $svc = Try-Get { Get-Service -Name $s[0] -ErrorAction Stop }
    if ($svc) { $edr += [ordered]@{ product = $s[1]; running = [bool]($svc.Status -eq 'Running'); last_connected = $null } }
}
# MDM enrolment: an enrollment with the MDM provider in state 1 (enrolled)
$mdmEnrolled = $null
$enrollments = Try-Get { Get-ChildItem 'HKLM:\SOFTWARE\Microsoft\Enrollments' -ErrorAction Stop | Get-ItemProperty }
if ($null -ne $enrollments) {
    $mdmEnrolled = [bool](@($enrollments | Where-Object { $_.ProviderID -eq 'MS DM Server' -and $_.EnrollmentState -eq 1 }).Count -gt 0)
}
# Local password policy (domain or MDM policies apply on top; null when unreadable)
$minLength = $null
$netAccounts = Try-Get { net accounts }
foreach ($line in @($netAccounts)) { if ($line -match '^Minimum password length:\s+(\d+)') { $minLength = [int]$Matches[1] } }
$password = [ordered]@{ required = if ($null -ne $minLength) { [bool]($minLength -gt 0) } else { $null }; min_length = $minLength }
# Updates Windows Update offers but has not installed
$pending = Try-Get { (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher().Search("IsInstalled=0 and Type='Software' and IsHidden=0").Updates.Count }
$others = Try-Get { Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct }
foreach ($p in @($others)) {
    if ($p -and $p.displayName -notlike '*Defender*') {
        $state = [int]$p.productState
        $antivirus += [ordered]@{ product = $p.displayName; enabled = [bool](($state -band 0x1000) -ne 0)
            up_to_date = [bool](($state -band 0x10) -eq 0); definitions_updated = $null }
    }
}
$bitlocker = Try-Get { Get-BitLockerVolume -MountPoint $env:SystemDrive }
$disk = if ($bitlocker) { $bitlocker.ProtectionStatus -eq 'On' } else { $null }
$profiles = Try-Get { Get-NetFirewallProfile }
$firewall = if ($profiles) { -not ($profiles | Where-Object { -not $_.Enabled }) } else { $null }
$lastHotfix = Try-Get { Get-HotFix | Where-Object InstalledOn | Sort-Object InstalledOn -Descending | Select-Object -First 1 }
# Screen lock: machine inactivity limit, or the user's screen saver timeout with a password.
$lock = $null
$inactivity = Try-Get { (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System').InactivityTimeoutSecs }
if ($inactivity) { $lock = [int]$inactivity }
else {
    $desk = Try-Get { Get-ItemProperty 'HKCU:\Control Panel\Desktop' }
    if ($desk -and $desk.ScreenSaveActive -eq '1' -and $desk.ScreenSaverIsSecure -eq '1') { $lock = [int]$desk.ScreenSaveTimeOut }
    elseif ($desk) { $lock = 0 }
}

$report = [ordered]@{
    schema_version = 1; device_id = $device; hostname = $env:COMPUTERNAME
    owner = if ($env:POSTURE_OWNER) { $env:POSTURE_OWNER } else { $null }
    serial = (Try-Get { (Get-CimInstance Win32_BIOS).SerialNumber })
    platform = 'windows'
    os = [ordered]@{ name = $os.Caption; version = $os.Version; build = $os.BuildNumber; supported = $null
        last_update = (Iso $lastHotfix.InstalledOn); pending_updates = $pending }
    antivirus = @($antivirus); disk_encryption = $disk; firewall = $firewall; screen_lock_seconds = $lock
    edr = @($edr); mdm = [ordered]@{ enrolled = $mdmEnrolled; provider = $null }; password = $password
    tamper_protection = $tamper
    collected_at = (Get-Date).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ"); agent = 'posture-report.ps1/1'
}
$body = $report | ConvertTo-Json -Depth 5 -Compress
if ($DryRun) { $body; exit 0 }

if (-not $env:POSTURE_URL -or -not $env:POSTURE_DEVICE_KEY) { throw 'set POSTURE_URL and POSTURE_DEVICE_KEY' }
$ts = [string][DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
$nonce = -join ((1..16) | ForEach-Object { '{0:x2}' -f (Get-Random -Maximum 256) })
$bytes = [Text.Encoding]::UTF8.GetBytes($body)
$prefix = [Text.Encoding]::UTF8.GetBytes("$ts`n$nonce`n$device`n")
$hmac = New-Object System.Security.Cryptography.HMACSHA256 (,[Text.Encoding]::UTF8.GetBytes($env:POSTURE_DEVICE_KEY))
$sig = -join ($hmac.ComputeHash([byte[]]($prefix + $bytes)) | ForEach-Object { '{0:x2}' -f $_ })
$headers = @{ 'X-Posture-Device' = $device; 'X-Posture-Timestamp' = $ts; 'X-Posture-Nonce' = $nonce; 'X-Posture-Signature' = $sig }
if ($env:POSTURE_SOURCE) { $headers['X-Posture-Source'] = $env:POSTURE_SOURCE }
Invoke-RestMethod -Method Post -Uri ($env:POSTURE_URL.TrimEnd('/') + '/v1/devices') -Headers $headers `
    -ContentType 'application/json' -Body $bytes
