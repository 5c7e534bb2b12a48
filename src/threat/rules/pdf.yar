// Cairn bundled rules: PDF actions that run without the reader's say-so. These see names in the
// clear only; the static PDF analyser also decodes FlateDecode object streams and #xx escapes.

rule PDF_AutoOpen_JavaScript
{
    meta:
        description = "PDF with JavaScript and an automatic action (/OpenAction or /AA)"
        code = "PDF_AUTO_JAVASCRIPT"
        score = 6
    strings:
        $pdf = "%PDF-"
        $js1 = "/JavaScript"
        $js2 = /\/JS[ \t\r\n(<\[\/]/
        $oa = "/OpenAction"
        $aa = /\/AA[ \t\r\n<]/
    condition:
        $pdf in (0..1024) and any of ($js*) and ($oa or $aa)
}

rule PDF_Launch_Action
{
    meta:
        description = "PDF with a /Launch action (starts a program)"
        code = "PDF_LAUNCH"
        score = 6
    strings:
        $pdf = "%PDF-"
        $launch = /\/Launch[ \t\r\n<\/]/
    condition:
        $pdf in (0..1024) and $launch
}

rule PDF_Embedded_File_With_Action
{
    meta:
        description = "PDF with an embedded file and an action that can open it"
        code = "PDF_EMBEDDED_FILE_ACTION"
        score = 5
    strings:
        $pdf = "%PDF-"
        $emb = "/EmbeddedFile"
        $a1 = "/OpenAction"
        $a2 = "/Launch"
        $a3 = "/JavaScript"
        $a4 = "exportDataObject"
    condition:
        $pdf in (0..1024) and $emb and any of ($a*)
}
