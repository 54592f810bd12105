/* Berth's dropbear build options; they override default_options.h (see its comments).
 * The server is for administrators only: public-key logins, no passwords, no forwarding of
 * X11 or agents, modern host keys only. */

/* Host keys: generated on first boot (dropbear -R, or dropbearkey by the image's setup). */
#define DSS_PRIV_FILENAME "/etc/dropbear/dropbear_dss_host_key"
#define RSA_PRIV_FILENAME "/etc/dropbear/dropbear_rsa_host_key"
#define ECDSA_PRIV_FILENAME "/etc/dropbear/dropbear_ecdsa_host_key"
#define ED25519_PRIV_FILENAME "/etc/dropbear/dropbear_ed25519_host_key"

/* Host key and user key algorithms: ed25519 and ecdsa. RSA stays for user keys and for clients
 * that still present one; DSS is off. */
#define DROPBEAR_ED25519 1
#define DROPBEAR_ECDSA 1
#define DROPBEAR_RSA 1
#define DROPBEAR_RSA_SHA1 0
#define DROPBEAR_DSS 0
#define DROPBEAR_SK_KEYS 1

/* Ciphers and key exchange: no CBC, no 3DES, no SHA1 groups. */
#define DROPBEAR_ENABLE_CBC_MODE 0
#define DROPBEAR_3DES 0
#define DROPBEAR_DH_GROUP1 0
#define DROPBEAR_DH_GROUP14_SHA1 0
#define DROPBEAR_SHA1_HMAC 0
#define DROPBEAR_SHA1_96_HMAC 0

/* Authentication: public keys only (~/.ssh/authorized_keys, with key options). */
#define DROPBEAR_SVR_PASSWORD_AUTH 0
#define DROPBEAR_SVR_PAM_AUTH 0
#define DROPBEAR_SVR_PUBKEY_AUTH 1
#define DROPBEAR_SVR_PUBKEY_OPTIONS 1
#define MAX_AUTH_TRIES 6

/* No X11 or agent forwarding; local TCP forwarding (ssh -L) stays for admin tunnels, remote
 * forwarding (ssh -R, listening on the host) is off. */
#define DROPBEAR_X11FWD 0
#define DROPBEAR_SVR_AGENTFWD 0
#define DROPBEAR_CLI_AGENTFWD 0
#define DROPBEAR_SVR_LOCALTCPFWD 1
#define DROPBEAR_SVR_REMOTETCPFWD 0

/* No sftp-server in the image: scp (legacy protocol, via the scp applet) is the file transfer. */
#define DROPBEAR_SFTPSERVER 0

/* No reverse DNS, no motd. */
#define DO_HOST_LOOKUP 0
#define DO_MOTD 0

#define DROPBEAR_PIDFILE "/run/dropbear.pid"

/* scp -S default when scp is used as a client. */
#define DROPBEAR_PATH_SSH_PROGRAM "/usr/bin/dbclient"

/* PATH for login sessions (the shell's profile may replace it). */
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
#define DEFAULT_ROOT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
