// Cairn bundled rules: Office documents whose VBA project names an auto-exec entry point. The VBA
// source itself is compressed; these names survive uncompressed in the compiled project
// (_VBA_PROJECT / p-code), so the raw compound file shows them. The static Office analyser
// decompresses the source and judges what the macro does.

rule Office_VBA_AutoExec
{
    meta:
        description = "Office compound file with a VBA project and an auto-exec entry point"
        code = "OFFICE_AUTOEXEC"
        score = 3
    strings:
        $vba = "_VBA_PROJECT" ascii wide
        $a1 = "AutoOpen" nocase ascii wide
        $a2 = "Auto_Open" nocase ascii wide
        $a3 = "Document_Open" nocase ascii wide
        $a4 = "Workbook_Open" nocase ascii wide
        $a5 = "AutoExec" nocase ascii wide
        $a6 = "AutoClose" nocase ascii wide
        $a7 = "Document_Close" nocase ascii wide
    condition:
        uint32(0) == 0xE011CFD0 and uint32(4) == 0xE11AB1A1 and $vba and any of ($a*)
}

rule Office_VBA_AutoExec_Execution_Source
{
    meta:
        description = "VBA source that runs on open and starts programs or downloads"
        code = "SCRIPT_VBA_AUTOEXEC_EXECUTION"
        score = 6
    strings:
        $auto = /\bSub\s+(Auto_?Open|Document_Open|Workbook_Open|AutoExec|Auto_?Close)\s*\(/ nocase
        $x1 = "WScript.Shell" nocase
        $x2 = /\bShell\s*\(/ nocase
        $x3 = "powershell" nocase
        $x4 = "URLDownloadToFile" nocase
        $x5 = "Win32_Process" nocase
        $x6 = "XMLHTTP" nocase
        $x7 = "ADODB.Stream" nocase
    condition:
        filesize < 10MB and $auto and any of ($x*)
}

rule Office_External_Template_Or_Handler
{
    meta:
        description = "Relationship part pointing at an MSHTML or MSDT protocol handler"
        code = "OFFICE_EXTERNAL_HANDLER"
        score = 8
    strings:
        $ext = "TargetMode=\"External\"" nocase
        $h1 = "Target=\"mhtml:" nocase
        $h2 = "Target=\"ms-msdt:" nocase
    condition:
        filesize < 5MB and $ext and any of ($h*)
}
