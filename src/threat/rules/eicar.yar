// Cairn bundled rules: the EICAR anti-virus test file (R-ATP-1), exactly as the EICAR rules
// define it: the 68-byte string at offset 0, then only space, tab, CR, LF or Ctrl-Z, 128 bytes at
// most. Meta read by Cairn: score (0-10, 10 = certain), code (reason code), description.

rule EICAR_Test_File
{
    meta:
        description = "EICAR anti-virus test file"
        code = "EICAR"
        score = 10
    strings:
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    condition:
        $eicar at 0 and filesize <= 128 and
        (filesize == 68 or
         for all i in (68..filesize - 1) : (
             uint8(i) == 0x20 or uint8(i) == 0x09 or uint8(i) == 0x0A or uint8(i) == 0x0D or uint8(i) == 0x1A))
}
