# Shared parts of the throwaway Postfix instances the tests and benchmarks start (sourced, not run):
#   crates/kensa-net/tests/support/postfix-burst.sh   (a real log with an outbound burst)
#   crates/kensa-cli/tests/support/postfix-milter.sh  (Postfix in front of `kensa milter`)
# Each instance has its own config, queue, data and log under one folder and listens on
# 127.0.0.1 only; nothing here touches the system instance.

# The compatibility_level for this Postfix; exits 3 when it has no maillog_file (before 3.4).
postfix_compat() {
    local version major minor
    version=$(postconf -d -h mail_version)
    major=${version%%.*}
    minor=${version#*.}
    minor=${minor%%.*}
    if ((major < 3 || (major == 3 && minor < 4))); then
        echo "Postfix $version has no maillog_file (needs 3.4 or later)" >&2
        exit 3
    fi
    if ((major > 3 || (major == 3 && minor >= 6))); then echo 3.6; else echo 2; fi
}

# main.cf lines every instance shares: its folders (under $1), names, loopback only, no local
# delivery, its own log file (no syslog daemon on these machines).
postfix_main_common() {
    local dir=$1
    cat <<MAIN
compatibility_level = $(postfix_compat)
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.kensa-test.invalid
mydomain = kensa-test.invalid
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
MAIN
}

# master.cf services every instance needs besides its listeners (no chroot, nothing on port 25).
postfix_master_common() {
    cat <<'MASTER'
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
smtp      unix  - - n - - smtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
MASTER
}
