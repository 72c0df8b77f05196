#!/usr/bin/python3
"""test_snmp_librenms.py: the shared check of the poller against LibreNMS.

Runs ../shared/tools/snmp-vs-librenms on our binary: snmpsimd serves the 21 real device
recordings of ../shared/data/snmprec, `netassure poll --device 127.0.0.1:PORT --community NAME
--json` polls each one over the network, and every port LibreNMS found (ifIndex, ifName, admin
and oper status) and every LLDP/CDP link (local port, remote sysName) must be in our answer.
The tool exits 0 only when every device matches. Skips (exit 77, visibly) when the shared data,
the tool, snmpsimd or snmpget are missing.
"""
import os
import shutil
import subprocess
import sys


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def main():
    binary = os.environ.get("NETASSURE_BIN", "build/netassure")
    data = os.environ.get("NETASSURE_SHARED_DATA", "../shared/data")
    tool = os.path.join(os.path.dirname(os.path.abspath(data)), "tools", "snmp-vs-librenms")
    recordings = os.path.join(data, "snmprec")
    if not os.path.isdir(recordings):
        skip(f"no recordings at {recordings}")
    if not os.path.isfile(tool):
        skip(f"no {tool}")
    for prog in ("snmpsimd", "snmpget"):
        if not shutil.which(prog):
            skip(f"{prog} is not installed (Debian: snmpsim, snmp)")
    # The tool serves on a fixed port (11610): CTest runs this test alone among the SNMP ones
    # that could collide (the others pick free ports).
    p = subprocess.run(["/usr/bin/python3", tool, binary, recordings], capture_output=True,
                       text=True, timeout=1200)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr[-4000:])
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    if p.returncode != 0 or not last.startswith("devices 21/21 exact"):
        print(f"FAIL: snmp-vs-librenms exit {p.returncode}: {last}")
        sys.exit(1)
    print("ok: " + last)


if __name__ == "__main__":
    main()
