/*
 * cmd_doctor.c -- `tlsactl doctor [-C POSTFIX_CONFIG_DIR]`: read Postfix's
 * settings with postconf and say what makes a DANE rollover unsafe.
 *
 * Read-only: runs `postconf [-c DIR] -x NAME...` and `postconf -P` (spawned
 * without a shell) and reads tlsad's own config for the deploy files and
 * live-dir.  Each finding is one line, "ok: ", "WARNING: " or "ERROR: ",
 * with the postconf command that fixes it.
 * Exit status: 0 all fine, 1 warnings only, 2 errors (64 usage).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tlsad/cmd.h"
#include "tlsad/conf.h"
#include "tlsad/deploy.h"
#include "tlsad/error.h"
#include "tlsad/mta.h"

#define POSTCONF_OUT_MAX	(256 * 1024)
#define POSTCONF_TIMEOUT_MS	20000
#define DEFAULT_LIVE_DIR	"/etc/letsencrypt/live"

/* The certificate and key parameters Postfix's smtpd reads. */
static const char *const cert_params[] = {
	"smtpd_tls_chain_files",
	"smtpd_tls_cert_file", "smtpd_tls_key_file",
	"smtpd_tls_eccert_file", "smtpd_tls_eckey_file",
	"smtpd_tls_dcert_file", "smtpd_tls_dkey_file",
};

struct doctor {
	const char	*confdir;	/* -C, or NULL */
	const char	*live_dir;
	char		 fix[512];	/* "postconf [-c DIR] -e" */
	char		*main_out;	/* postconf -x output */
	size_t		 main_len;
	char		*master_out;	/* postconf -P output */
	size_t		 master_len;
	int		 errors;
	int		 warnings;
};

static void
finding(struct doctor *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* level: 0 ok, 1 warning, 2 error. */
static void
finding(struct doctor *d, int level, const char *fmt, ...)
{
	va_list	ap;

	if (level == 2)
		d->errors++;
	else if (level == 1)
		d->warnings++;
	fputs(level == 2 ? "ERROR: " : level == 1 ? "WARNING: " : "ok: ",
	    stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/*
 * Find "name = value" (or "name =") in postconf output; the value is
 * copied into val.  1 found, 0 not.
 */
static int
lookup(const char *out, size_t len, const char *name, char *val,
    size_t valsize)
{
	size_t		 nlen = strlen(name), pos = 0, linelen, vlen;
	const char	*line, *nl, *v;

	val[0] = '\0';
	while (pos < len) {
		line = out + pos;
		nl = memchr(line, '\n', len - pos);
		linelen = nl == NULL ? len - pos : (size_t)(nl - line);
		pos += linelen + 1;
		if (linelen < nlen + 2 || strncmp(line, name, nlen) != 0 ||
		    line[nlen] != ' ' || line[nlen + 1] != '=')
			continue;
		v = line + nlen + 2;
		vlen = linelen - nlen - 2;
		if (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
		if (vlen >= valsize)
			vlen = valsize - 1;
		memcpy(val, v, vlen);
		val[vlen] = '\0';
		return 1;
	}
	return 0;
}

static int
run_postconf(struct doctor *d, char **argv, char **out, size_t *len)
{
	struct mta_exit	ex;
	char		errtext[1024];
	int		rc;

	rc = mta_run(argv, POSTCONF_TIMEOUT_MS, out, len, POSTCONF_OUT_MAX,
	    errtext, sizeof(errtext), &ex);
	if (rc == 0 && (!ex.exited || ex.status != 0)) {
		rc = TLSAD_ECHILD;
		free(*out);
		*out = NULL;
	}
	if (rc != 0) {
		errtext[strcspn(errtext, "\n")] = '\0';
		finding(d, 2, "cannot run postconf%s%s: %s%s%s",
		    d->confdir != NULL ? " -c " : "",
		    d->confdir != NULL ? d->confdir : "", tlsad_strerror(rc),
		    errtext[0] != '\0' ? ": " : "", errtext);
	}
	return rc;
}

/* Is one path in a parameter value under certbot's tree? */
static int
under_certbot(const struct doctor *d, const char *path)
{
	return deploy_check_path(path, d->live_dir, NULL, 0) == TLSAD_EDEPLOY;
}

/* Does value (white space or comma separated paths) contain path? */
static int
value_has(const char *value, const char *path)
{
	size_t		 plen = strlen(path), n;
	const char	*p = value;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			return 0;
		n = strcspn(p, " \t,");
		if (n == plen && strncmp(p, path, n) == 0)
			return 1;
		p += n;
	}
}

/* The first path of value under certbot's tree, into bad; 1 if any. */
static int
value_under_certbot(const struct doctor *d, const char *value, char *bad,
    size_t badsize)
{
	const char	*p = value;
	size_t		 n;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			return 0;
		n = strcspn(p, " \t,");
		if (n < badsize) {
			memcpy(bad, p, n);
			bad[n] = '\0';
			if (under_certbot(d, bad))
				return 1;
		}
		p += n;
	}
}

static void
check_version(struct doctor *d)
{
	char			 v[128];
	unsigned long long	 major = 0, minor = 0;
	char			*end;

	if (!lookup(d->main_out, d->main_len, "mail_version", v, sizeof(v)))
		return;
	major = strtoull(v, &end, 10);
	if (*end == '.')
		minor = strtoull(end + 1, NULL, 10);
	if (major < 3 || (major == 3 && minor < 4))
		finding(d, 2, "Postfix %s is older than 3.4: it has no "
		    "smtpd_tls_chain_files, so it cannot read the single "
		    "key+chain file tlsad deploys; upgrade Postfix", v);
	else
		finding(d, 0, "Postfix %s supports smtpd_tls_chain_files", v);
}

static void
check_cert_paths(struct doctor *d, const struct conf *conf)
{
	char		 val[4096], bad[4096], sample[1024];
	const char	*deploy;
	struct stat	 st;
	size_t		 i;
	int		 have_chain, bad_chain = 0;

	deploy = conf != NULL && conf->nlineages > 0 ?
	    conf->lineages[0].deploy_file : "/etc/tlsad/deploy/LINEAGE.pem";
	snprintf(sample, sizeof(sample), "%s", deploy);

	lookup(d->main_out, d->main_len, "smtpd_tls_chain_files", val,
	    sizeof(val));
	have_chain = val[0] != '\0';
	if (have_chain && value_under_certbot(d, val, bad, sizeof(bad))) {
		bad_chain = 1;
		finding(d, 2, "smtpd_tls_chain_files reads %s, under certbot's "
		    "directory: certbot's symlink swap puts a renewed key in "
		    "service before its TLSA record is published (a DANE "
		    "outage at every renewal); fix: %s "
		    "'smtpd_tls_chain_files = %s'", bad, d->fix, sample);
	}
	for (i = 1; i < sizeof(cert_params) / sizeof(cert_params[0]); i++) {
		lookup(d->main_out, d->main_len, cert_params[i], val,
		    sizeof(val));
		if (val[0] == '\0')
			continue;
		if (value_under_certbot(d, val, bad, sizeof(bad))) {
			if (have_chain && !bad_chain)
				finding(d, 1, "%s = %s points under certbot's "
				    "directory; Postfix ignores it while "
				    "smtpd_tls_chain_files is set, but it "
				    "misleads; fix: %s '%s ='", cert_params[i],
				    val, d->fix, cert_params[i]);
			else
				finding(d, 2, "%s = %s is under certbot's "
				    "directory: certbot's symlink swap puts a "
				    "renewed key in service before its TLSA "
				    "record is published (a DANE outage at "
				    "every renewal); fix: %s "
				    "'smtpd_tls_chain_files = %s' '%s ='",
				    cert_params[i], val, d->fix, sample,
				    cert_params[i]);
		} else if (have_chain) {
			finding(d, 1, "%s = %s is ignored while "
			    "smtpd_tls_chain_files is set; fix: %s '%s ='",
			    cert_params[i], val, d->fix, cert_params[i]);
		}
	}
	if (!have_chain) {
		finding(d, 2, "smtpd_tls_chain_files is empty: Postfix does "
		    "not read tlsad's deploy file, so tlsad cannot control "
		    "which key it serves; fix: %s "
		    "'smtpd_tls_chain_files = %s'", d->fix, sample);
		return;
	}
	if (conf == NULL || conf->nlineages == 0) {
		finding(d, 1, "smtpd_tls_chain_files is set, but without a "
		    "tlsad config with a lineage doctor cannot tell whether "
		    "it names tlsad's deploy file");
		return;
	}
	lookup(d->main_out, d->main_len, "smtpd_tls_chain_files", val,
	    sizeof(val));
	for (i = 0; i < conf->nlineages; i++) {
		deploy = conf->lineages[i].deploy_file;
		if (value_has(val, deploy)) {
			finding(d, 0, "smtpd_tls_chain_files reads tlsad's "
			    "deploy file %s (lineage %s)", deploy,
			    conf->lineages[i].name);
		} else {
			finding(d, 2, "smtpd_tls_chain_files = %s does not name "
			    "tlsad's deploy file %s (lineage %s): rollovers "
			    "would not change what Postfix serves; fix: %s "
			    "'smtpd_tls_chain_files = %s'", val, deploy,
			    conf->lineages[i].name, d->fix, deploy);
			continue;
		}
		if (stat(deploy, &st) == -1)
			finding(d, 1, "deploy file %s does not exist yet "
			    "(tlsad writes it once the key's TLSA record is validated and held)",
			    deploy);
		else if ((st.st_mode & S_IROTH) != 0)
			finding(d, 2, "deploy file %s holds a private key and "
			    "is readable by everyone; fix: chmod 0600 %s",
			    deploy, deploy);
	}
}

/* master.cf overrides: "service/type/name = value" from postconf -P. */
static void
check_master(struct doctor *d)
{
	char		 name[256], val[4096], bad[4096];
	const char	*line, *nl, *eq, *slash;
	size_t		 pos = 0, linelen, i, n;

	while (d->master_out != NULL && pos < d->master_len) {
		line = d->master_out + pos;
		nl = memchr(line, '\n', d->master_len - pos);
		linelen = nl == NULL ? d->master_len - pos :
		    (size_t)(nl - line);
		pos += linelen + 1;
		eq = memchr(line, '=', linelen);
		if (eq == NULL || eq == line)
			continue;
		n = (size_t)(eq - line);
		while (n > 0 && line[n - 1] == ' ')
			n--;
		if (n >= sizeof(name))
			continue;
		memcpy(name, line, n);
		name[n] = '\0';
		slash = strrchr(name, '/');
		if (slash == NULL)
			continue;
		n = linelen - (size_t)(eq + 1 - line);
		if (n >= sizeof(val))
			continue;
		memcpy(val, eq + 1, n);
		val[n] = '\0';
		memmove(val, val + strspn(val, " "), strlen(val) + 1);
		for (i = 0; i < sizeof(cert_params) / sizeof(cert_params[0]);
		    i++) {
			if (strcmp(slash + 1, cert_params[i]) == 0 &&
			    value_under_certbot(d, val, bad, sizeof(bad)))
				finding(d, 2, "master.cf service %.*s overrides "
				    "%s with %s, under certbot's directory (a "
				    "DANE outage at every renewal); fix: "
				    "remove that -o option (postconf%s%s -X "
				    "-P '%s')", (int)(slash - name), name,
				    cert_params[i], bad,
				    d->confdir != NULL ? " -c " : "",
				    d->confdir != NULL ? d->confdir : "",
				    name);
		}
		if (strcmp(slash + 1, "smtpd_tls_security_level") == 0 &&
		    (strcmp(val, "none") == 0 || val[0] == '\0'))
			finding(d, 1, "master.cf service %.*s sets "
			    "smtpd_tls_security_level = none: no STARTTLS "
			    "there", (int)(slash - name), name);
	}
}

static void
check_levels(struct doctor *d)
{
	char	level[128], legacy[64], v[128];

	lookup(d->main_out, d->main_len, "smtpd_tls_security_level", level,
	    sizeof(level));
	lookup(d->main_out, d->main_len, "smtpd_use_tls", legacy,
	    sizeof(legacy));
	if (strcmp(level, "none") == 0 ||
	    (level[0] == '\0' && strcmp(legacy, "yes") != 0))
		finding(d, 2, "smtpd_tls_security_level = %s: Postfix offers "
		    "no STARTTLS, so DANE senders defer all mail to it; fix: "
		    "%s 'smtpd_tls_security_level = may'",
		    level[0] != '\0' ? level : "(empty)", d->fix);
	else if (strcmp(level, "encrypt") == 0)
		finding(d, 1, "smtpd_tls_security_level = encrypt: a public "
		    "MX must not require TLS (RFC 3207); fine for a "
		    "submission-only server; fix: %s "
		    "'smtpd_tls_security_level = may'", d->fix);
	else
		finding(d, 0, "smtpd_tls_security_level = %s",
		    level[0] != '\0' ? level : "(smtpd_use_tls = yes)");

	lookup(d->main_out, d->main_len, "smtp_tls_security_level", v,
	    sizeof(v));
	if (strcmp(v, "dane") == 0 || strcmp(v, "dane-only") == 0)
		finding(d, 0, "smtp_tls_security_level = %s (outbound DANE)",
		    v);
	else
		finding(d, 1, "smtp_tls_security_level = %s: outbound mail "
		    "does not use DANE; fix: %s "
		    "'smtp_tls_security_level = dane'",
		    v[0] != '\0' ? v : "(empty)", d->fix);
	lookup(d->main_out, d->main_len, "smtp_dns_support_level", v,
	    sizeof(v));
	if (strcmp(v, "dnssec") == 0)
		finding(d, 0, "smtp_dns_support_level = dnssec");
	else
		finding(d, 1, "smtp_dns_support_level = %s: without dnssec "
		    "Postfix cannot see validated TLSA records and the dane "
		    "level silently falls back to may (the resolver must "
		    "validate and set AD); fix: %s "
		    "'smtp_dns_support_level = dnssec'",
		    v[0] != '\0' ? v : "(empty)", d->fix);
}

static void
usage_doctor(void)
{
	fprintf(stderr, "usage: tlsactl doctor [-C POSTFIX_CONFIG_DIR]\n");
}

int
cmd_doctor(const struct cmd_env *env, int argc, char *argv[])
{
	struct doctor	 d;
	struct conf	*conf = NULL;
	char		*errmsg = NULL;
	char		*margv[32];
	size_t		 n = 0, i;
	int		 ch, rc, status;

	memset(&d, 0, sizeof(d));
	for (;;) {
		ch = getopt(argc, argv, "C:h");
		if (ch == -1)
			break;
		switch (ch) {
		case 'C':
			d.confdir = optarg;
			break;
		default:
			usage_doctor();
			return 64;
		}
	}
	if (optind != argc) {
		usage_doctor();
		return 64;
	}
	if (d.confdir != NULL)
		snprintf(d.fix, sizeof(d.fix), "postconf -c %s -e", d.confdir);
	else
		snprintf(d.fix, sizeof(d.fix), "postconf -e");

	rc = conf_load(env->conf_path, &conf, &errmsg);
	if (rc != 0) {
		finding(&d, rc == -ENOENT ? 1 : 2, "tlsad config: %s%s",
		    errmsg != NULL ? errmsg : tlsad_strerror(rc),
		    rc == -ENOENT ? " (checking Postfix alone)" : "");
		conf = NULL;
	}
	d.live_dir = conf != NULL && conf->live_dir != NULL ? conf->live_dir :
	    DEFAULT_LIVE_DIR;

	margv[n++] = (char *)"postconf";
	if (d.confdir != NULL) {
		margv[n++] = (char *)"-c";
		margv[n++] = (char *)d.confdir;
	}
	margv[n++] = (char *)"-x";
	margv[n++] = (char *)"mail_version";
	for (i = 0; i < sizeof(cert_params) / sizeof(cert_params[0]); i++)
		margv[n++] = (char *)cert_params[i];
	margv[n++] = (char *)"smtpd_tls_security_level";
	margv[n++] = (char *)"smtpd_use_tls";
	margv[n++] = (char *)"smtp_tls_security_level";
	margv[n++] = (char *)"smtp_dns_support_level";
	margv[n] = NULL;
	rc = run_postconf(&d, margv, &d.main_out, &d.main_len);
	if (rc != 0)
		goto out;

	n = 1;
	if (d.confdir != NULL)
		n = 3;
	margv[n++] = (char *)"-P";
	margv[n] = NULL;
	/* master.cf overrides are a bonus: a failure is already reported. */
	(void)run_postconf(&d, margv, &d.master_out, &d.master_len);

	check_version(&d);
	check_cert_paths(&d, conf);
	check_master(&d);
	check_levels(&d);
out:
	status = d.errors > 0 ? 2 : d.warnings > 0 ? 1 : 0;
	printf("%d error%s, %d warning%s\n", d.errors, d.errors == 1 ? "" : "s",
	    d.warnings, d.warnings == 1 ? "" : "s");
	free(d.main_out);
	free(d.master_out);
	free(errmsg);
	conf_free(conf);
	return status;
}
