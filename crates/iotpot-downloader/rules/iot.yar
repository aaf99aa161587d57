/*
 * iotpot's built-in family rules for IoT malware, written from public
 * descriptions of the families' strings. Tags are what `iotpot samples`
 * shows. Add your own rules with `[downloader] rules = "DIR"`.
 */

rule mirai : mirai
{
    meta:
        description = "Mirai and its descendants: watchdog handling, the attack and scanner strings of the published source"
    strings:
        $wd1 = "/dev/watchdog"
        $wd2 = "/dev/misc/watchdog"
        $s1 = "TSource Engine Query"
        $s2 = "/proc/net/tcp"
        $s3 = "dvrHelper"
        $s4 = "listening tun0"
        $s5 = "/bin/busybox ECCHI"
        $s6 = "/bin/busybox MIRAI"
        $s7 = "POST /cdn-cgi/"
        $s8 = ".anime"
    condition:
        uint32(0) == 0x464c457f and (1 of ($wd*)) and 2 of ($s*)
}

rule gafgyt : gafgyt bashlite
{
    meta:
        description = "Gafgyt / Bashlite / Qbot: the IRC-like C&C commands of the leaked source"
    strings:
        $c1 = "PONG!"
        $c2 = "GETLOCALIP"
        $c3 = "SCANNER ON"
        $c4 = "SCANNER OFF"
        $c5 = "KILLATTK"
        $c6 = "LOLNOGTFO"
        $c7 = "gayfgt"
        $c8 = "My IP: %s"
        $c9 = "HOLD Flooding"
        $c10 = "JUNK Flooding"
        $c11 = "[SCANNER]"
    condition:
        uint32(0) == 0x464c457f and 3 of them
}

rule moose : moose
{
    meta:
        description = "Linux/Moose (ESET, 2015): its elan markers and the Telnet propagation strings it matches on victims"
    strings:
        $elan2 = "elan2"
        $elan3 = "elan3"
        $p1 = "password is wrong"
        $p2 = "uthentication failed"
        $p3 = "chmod: not found"
        $p4 = "/proc/%s/cmdline"
        $p5 = "echo -n -e "
    condition:
        uint32(0) == 0x464c457f and 1 of ($elan*) and 3 of ($p*)
}

rule tsunami : tsunami kaiten
{
    meta:
        description = "Tsunami / Kaiten IRC bot: its NOTICE help strings"
    strings:
        $a = "NOTICE %s :" nocase
        $b = "PAN <target> <port> <secs>"
        $c = "TSUNAMI <target> <secs>"
        $d = "KILLALL"
        $e = "GETSPOOFS"
    condition:
        uint32(0) == 0x464c457f and $a and 2 of ($b, $c, $d, $e)
}

rule hajime : hajime
{
    meta:
        description = "Hajime: the message its author leaves on infected devices"
    strings:
        $m1 = "Just a white hat, securing some systems."
        $m2 = "Stay sharp!"
        $m3 = ".i.mipseb"
        $m4 = ".i.arm7"
    condition:
        any of them
}

rule wifatch : wifatch
{
    meta:
        description = "Linux.Wifatch: the note to the device owner it prints on Telnet"
    strings:
        $n1 = "Telnet has been closed to avoid further infection of this device"
        $n2 = "Please disable telnet, change telnet passwords"
    condition:
        any of them
}

rule multiarch_dropper_script : dropper
{
    meta:
        description = "A shell script that fetches and runs one binary per CPU architecture"
    strings:
        $get1 = "wget " ascii
        $get2 = "tftp " ascii
        $get3 = "curl " ascii
        $get4 = "ftpget " ascii
        $a1 = "arm" ascii
        $a2 = "mips" ascii
        $a3 = "x86" ascii
        $a4 = "ppc" ascii
        $a5 = "sh4" ascii
        $a6 = "m68k" ascii
        $x = "chmod" ascii
    condition:
        uint32(0) != 0x464c457f and filesize < 200KB and any of ($get*) and 3 of ($a*) and $x
}
