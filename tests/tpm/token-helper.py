#!/usr/bin/python3
# Test helper for token formats Debian's systemd 252 cannot write (an RSA
# parent, the v253 salted PIN, the v254 tpm2_srk field). It only handles
# JSON and bytes; the sealing is done by tpm2-tools in lib.sh. Follows the
# field list of the shared spec systemd-tpm2.md, section 1.
#   policy TOKEN.json OUT.bin           the token's policy hash as bytes
#   pinauth PIN [SALT_FILE]             authValue (hex) for tpm2_create -p
#   build BASE.json PRIV PUB SLOT OUT.json [FIELD=JSON]...
#   b64 FILE                            base64 of a file, no newline
import base64
import hashlib
import json
import sys


def main(argv):
    cmd = argv[1]
    if cmd == "policy":
        tok = json.load(open(argv[2]))
        open(argv[3], "wb").write(bytes.fromhex(tok["tpm2-policy-hash"]))
    elif cmd == "pinauth":
        pin = argv[2].encode()
        if len(argv) > 3:
            salt = open(argv[3], "rb").read()
            dk = hashlib.pbkdf2_hmac("sha256", pin, salt, 10000, 32)
            pin = base64.b64encode(dk)
        print(hashlib.sha256(pin).hexdigest())
    elif cmd == "build":
        tok = json.load(open(argv[2]))
        blob = open(argv[3], "rb").read() + open(argv[4], "rb").read()
        tok["tpm2-blob"] = base64.b64encode(blob).decode()
        tok["keyslots"] = [argv[5]]
        for kv in argv[7:]:
            k, v = kv.split("=", 1)
            if v == "DELETE":
                tok.pop(k, None)
            else:
                tok[k] = json.loads(v)
        json.dump(tok, open(argv[6], "w"))
    elif cmd == "b64":
        sys.stdout.write(base64.b64encode(open(argv[2], "rb").read()).decode())
    elif cmd == "set":
        # set IN.json OUT.json FIELD=JSON...: edit fields (corrupt tokens)
        tok = json.load(open(argv[2]))
        for kv in argv[4:]:
            k, v = kv.split("=", 1)
            if v == "DELETE":
                tok.pop(k, None)
            else:
                tok[k] = json.loads(v)
        json.dump(tok, open(argv[3], "w"))
    elif cmd == "truncate":
        # truncate IN.json OUT.json N: cut N bytes off the end of tpm2-blob
        tok = json.load(open(argv[2]))
        blob = base64.b64decode(tok["tpm2-blob"])
        tok["tpm2-blob"] = base64.b64encode(blob[:-int(argv[4])]).decode()
        json.dump(tok, open(argv[3], "w"))
    elif cmd == "keyslots":
        # keyslots DUMP.json: the keyslot numbers in a luksDump JSON
        print(" ".join(sorted(json.load(open(argv[2]))["keyslots"].keys(), key=int)))
    else:
        sys.exit("unknown command " + cmd)


main(sys.argv)
