// Cairn bundled rules: script droppers and obfuscation (PowerShell, WSH, JavaScript, batch,
// living-off-the-land binaries) and shortcut files that launch interpreters.

rule Script_PowerShell_Download_Execute
{
    meta:
        description = "PowerShell that downloads a payload and runs it"
        code = "SCRIPT_DOWNLOAD_EXECUTE"
        score = 6
    strings:
        $d1 = "Invoke-WebRequest" nocase ascii wide
        $d2 = "DownloadFile" nocase ascii wide
        $d3 = "DownloadString" nocase ascii wide
        $d4 = "Net.WebClient" nocase ascii wide
        $d5 = "Start-BitsTransfer" nocase ascii wide
        $d6 = "Invoke-RestMethod" nocase ascii wide
        $e1 = "Start-Process" nocase ascii wide
        $e2 = "Invoke-Expression" nocase ascii wide
        $e3 = /\bIEX\b/ nocase
        $e4 = "Invoke-Item" nocase ascii wide
        $e5 = "rundll32" nocase ascii wide
    condition:
        filesize < 10MB and any of ($d*) and any of ($e*)
}

rule Script_PowerShell_Encoded_Command
{
    meta:
        description = "PowerShell started with a long -EncodedCommand argument"
        code = "SCRIPT_ENCODED_COMMAND"
        score = 6
    strings:
        $a = /powershell(\.exe)?["']?\s[^\r\n]{0,80}\s-e(nc|ncodedcommand)?\s+["']?[A-Za-z0-9+\/=]{40}/ nocase ascii wide
    condition:
        filesize < 10MB and $a
}

rule Script_WSH_Dropper
{
    meta:
        description = "Windows Script Host code that fetches, writes and runs a payload"
        code = "SCRIPT_WSH_DROPPER"
        score = 6
    strings:
        $s1 = "WScript.Shell" nocase ascii wide
        $s2 = "Shell.Application" nocase ascii wide
        $h1 = "XMLHTTP" nocase ascii wide
        $h2 = "WinHttp.WinHttpRequest" nocase ascii wide
        $w1 = "ADODB.Stream" nocase ascii wide
        $w2 = "SaveToFile" nocase ascii wide
        $w3 = ".Run" nocase ascii wide
        $w4 = "ShellExecute" nocase ascii wide
    condition:
        filesize < 10MB and any of ($s*) and any of ($h*) and any of ($w*)
}

rule Script_JS_Obfuscation
{
    meta:
        description = "JavaScript that evaluates code it assembles from character codes or escapes"
        code = "SCRIPT_OBFUSCATION"
        score = 4
    strings:
        $eval = /\beval\s*\(/
        $fcc = "String.fromCharCode"
        $unesc = /unescape\s*\(\s*["']%u[0-9a-fA-F]{4}/
        $hex = /(\\x[0-9a-fA-F]{2}){32}/
    condition:
        filesize < 10MB and $eval and (#fcc > 10 or $unesc or $hex)
}

rule Script_LOLBin_Download
{
    meta:
        description = "Command line that abuses a Windows binary to download or decode a payload"
        code = "SCRIPT_LOLBIN"
        score = 5
    strings:
        $c1 = /certutil(\.exe)?\s[^\r\n]{0,40}-urlcache/ nocase ascii wide
        $c2 = /bitsadmin(\.exe)?\s+\/transfer/ nocase ascii wide
        $c3 = /mshta(\.exe)?\s+["']?(https?|vbscript|javascript):/ nocase ascii wide
        $c4 = /regsvr32(\.exe)?\s[^\r\n]{0,40}\/i:https?:/ nocase ascii wide
        $c5 = /certutil(\.exe)?\s[^\r\n]{0,40}-decode/ nocase ascii wide
    condition:
        filesize < 10MB and any of them
}

rule HTA_With_Script
{
    meta:
        description = "HTML application (runs with full user rights through mshta)"
        code = "SCRIPT_HTA"
        score = 3
    strings:
        $h = "<hta:application" nocase
        $s = "<script" nocase
    condition:
        filesize < 10MB and $h and $s
}

rule LNK_Launches_Interpreter
{
    meta:
        description = "Windows shortcut that starts a command interpreter or script host"
        code = "LNK_COMMAND"
        score = 5
    strings:
        $p = "powershell" nocase ascii wide
        $c = "cmd.exe" nocase ascii wide
        $m = "mshta" nocase ascii wide
        $w = "wscript" nocase ascii wide
        $cs = "cscript" nocase ascii wide
        $r = "rundll32" nocase ascii wide
    condition:
        uint32(0) == 0x0000004C and uint32(4) == 0x00021401 and filesize < 1MB and any of them
}
