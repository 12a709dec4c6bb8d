# Shell functions shared by scripts/demo (SoftHSM2) and scripts/demo-cloudhsm (the CloudHSM
# fake); sourced, not run. They use the caller's $log, $pki, $out, $work and $policy, and
# start_log_and_witness sets $witness_pid (the caller kills it on exit) and $logged (the
# log and witness arguments of every logged command).

step() { echo "==> $*"; printf '\n==> %s\n' "$*" >>"$log"; }

# Run a command with its output in the log: the terminal shows only the step banners.
run() {
    printf '$ %s\n' "$*" >>"$log"
    "$@" >>"$log" 2>&1
}

# fill_template KIND FILE [FIELD=VALUE...]: the repository's template for KIND with those
# fields filled in, as an operator would copy and edit it.
fill_template() {
    local kind=$1 file=$2 field value
    shift 2
    cp "policy/ceremonies/$kind.toml" "$file"
    for assignment in "$@"; do
        field=${assignment%%=*} value=${assignment#*=}
        grep -q "^$field = " "$file" || { echo "demo: template $kind has no field $field" >&2; return 1; }
        sed -i "s|^$field = .*|$field = \"$value\"|" "$file"
    done
}

# set_policy FIELD VALUE: set the one line `FIELD = ...` of the policy copy (root-rotate).
set_policy() {
    [[ $(grep -c "^$1 = " "$policy") == 1 ]] || { echo "demo: policy has no single $1" >&2; return 1; }
    sed -i "s|^$1 = .*|$1 = \"$2\"|" "$policy"
}

# start_log_and_witness: a transparency log in DIR/log and a witness serving on 127.0.0.1.
start_log_and_witness() {
    run "$pki" log init "$out/log" --origin demo.pki.rust-lang.org/log --log-skey-out "$work/log.skey"
    run "$pki" log witness init --state-dir "$work/witness" --name witness.demo.example/w1 \
        --witness-skey-out "$work/witness.skey"
    cp "$work/witness/witness.vkey" "$out/witness.vkey"
    "$pki" log witness serve --state-dir "$work/witness" --witness-skey "$work/witness.skey" \
        --log-vkey "$out/log/log.vkey" --listen 127.0.0.1:0 >"$work/witness.out" 2>>"$log" &
    witness_pid=$!
    local witness_addr=
    for _ in {1..100}; do
        witness_addr=$(grep -o '127\.0\.0\.1:[0-9]*' "$work/witness.out" | head -n 1) && break
        sleep 0.1
    done
    [[ -n $witness_addr ]] || { echo "demo: the witness did not start" >&2; exit 1; }
    # Issuance appends to the log, asks the witness to cosign, then staples the bundle.
    logged=(--log "$out/log" --log-skey "$work/log.skey" --witness-url "http://$witness_addr"
        --witness-vkey "$out/witness.vkey")
}
