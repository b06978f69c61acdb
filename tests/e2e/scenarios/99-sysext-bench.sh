# A benchmark, not a judge of speed: the extensions stage of usi-init for
# five signed images next to the UKI (each checked in full and handed over
# as sidecars), from the stage timing in state.json, printed as
# "BENCH sysext 5 images: N ms". The boot is shared with the sysext
# scenario; this fails only when the boot, an image or the figure is missing.
describe="benchmark: usi-init's extensions stage for five images under TCG (prints a figure)"

. "$E2E_DIR/lib-sysext.sh"

figure() { echo "# $E2E_SCENARIO: figure $*" >&2; echo "$*" >>"$W/figures.txt"; }

scenario() {
        local ms n
        sx_five_boot || return 1
        ms=$(json_get "$W/node.res/state.json" "[x for x in j['stages'] if x['name'] == 'extensions'][0]['ms']")
        case $ms in
        '' | *[!0-9]*) fail "no extensions stage timing in state.json: '$ms'"; return 1 ;;
        esac
        n=$(sx_state_ext | grep -c ' accepted ')
        [ "$n" = 5 ] || fail "$n of the 5 images accepted: $(sx_state_ext | tr '\n' '|')"
        # Other VMs on the same cores slow TCG down: the host's load goes with the figure.
        figure "BENCH sysext 5 images: $ms ms ($n accepted; goal under 1000 ms under TCG; host load $(cut -d' ' -f1-3 /proc/loadavg))"
}
