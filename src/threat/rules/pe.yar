// Cairn bundled rules: suspicious traits of Windows PE files. Scores are modest: each trait is
// common in some benign software; combinations with other findings raise the verdict.

import "pe"
import "math"

rule PE_Packer_UPX
{
    meta:
        description = "PE packed with UPX (UPX0/UPX1 sections)"
        code = "PE_PACKER"
        score = 3
    condition:
        pe.is_pe and for any s in pe.sections : (s.name == "UPX0" or s.name == "UPX1" or s.name == "UPX2")
}

rule PE_Packer_Protector_Sections
{
    meta:
        description = "PE section names of a known packer or protector"
        code = "PE_PACKER"
        score = 4
    condition:
        pe.is_pe and for any s in pe.sections : (
            s.name == ".aspack" or s.name == ".adata" or s.name == "MPRESS1" or s.name == ".MPRESS1" or
            s.name == ".petite" or s.name == ".nsp0" or s.name == ".nsp1" or s.name == "PEC2" or
            s.name == ".themida" or s.name == ".winlice" or s.name == ".vmp0" or s.name == ".vmp1" or
            s.name == ".enigma1" or s.name == ".enigma2")
}

rule PE_High_Entropy_Code_Section
{
    meta:
        description = "Executable PE section with entropy above 7.2 bits/byte (packed or encrypted code)"
        code = "PE_HIGH_ENTROPY_CODE"
        score = 3
    condition:
        pe.is_pe and for any s in pe.sections : (
            (s.characteristics & pe.SECTION_MEM_EXECUTE) != 0 and s.raw_data_size >= 1024 and
            math.entropy(s.raw_data_offset, s.raw_data_size) > 7.2)
}

rule PE_Writable_Executable_Section
{
    meta:
        description = "PE section that is both writable and executable"
        code = "PE_WX_SECTION"
        score = 2
    condition:
        pe.is_pe and for any s in pe.sections : (
            (s.characteristics & pe.SECTION_MEM_EXECUTE) != 0 and (s.characteristics & pe.SECTION_MEM_WRITE) != 0)
}

rule PE_Process_Injection_Imports
{
    meta:
        description = "Imports VirtualAllocEx, WriteProcessMemory and CreateRemoteThread (process injection)"
        code = "PE_INJECTION_APIS"
        score = 5
    condition:
        pe.is_pe and pe.imports("kernel32.dll", "VirtualAllocEx") and
        pe.imports("kernel32.dll", "WriteProcessMemory") and pe.imports("kernel32.dll", "CreateRemoteThread")
}

rule PE_Download_Execute_Imports
{
    meta:
        description = "Imports URLDownloadToFile together with a way to run the result"
        code = "PE_DOWNLOAD_EXECUTE_APIS"
        score = 4
    condition:
        pe.is_pe and
        (pe.imports("urlmon.dll", "URLDownloadToFileA") or pe.imports("urlmon.dll", "URLDownloadToFileW")) and
        (pe.imports("kernel32.dll", "WinExec") or pe.imports("shell32.dll", "ShellExecuteA") or
         pe.imports("shell32.dll", "ShellExecuteW") or pe.imports("kernel32.dll", "CreateProcessA") or
         pe.imports("kernel32.dll", "CreateProcessW"))
}

rule Document_Embedded_PE
{
    meta:
        description = "Office, RTF or PDF document that carries a Windows executable"
        code = "DOCUMENT_EMBEDDED_EXECUTABLE"
        score = 5
    strings:
        $dos = "This program cannot be run in DOS mode"
    condition:
        (uint32(0) == 0xE011CFD0 or uint32(0) == 0x46445025 or uint32(0) == 0x74725C7B) and
        for any i in (1..#dos) : (@dos[i] > 0x4E and uint16(@dos[i] - 0x4E) == 0x5A4D)
}

rule Base64_Encoded_PE
{
    meta:
        description = "Base64 text of a Windows executable header"
        code = "ENCODED_EXECUTABLE"
        score = 5
    strings:
        $a = "TVqQAAMAAAAEAAAA"
        $b = "TVpQAAIAAAAEAA8A"
        $c = "TVqAAAEAAAAEABAA"
        $d = "TVoAAAAAAAAAAAAA"
        $r = "AAAAEAAAAMAAQqVT"
    condition:
        uint16(0) != 0x5A4D and any of them
}
