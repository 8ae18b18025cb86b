// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-bench smoke test: `kipc-bench --quick` runs every mechanism once,
 * briefly, and its JSON and CSV are well formed and complete.  Correctness
 * only: no number is judged, so this test cannot fail on a slow machine.
 *
 * The run happens once, before the tests (they only read its output).  The
 * binary is $KIPC_BENCH, or tools/kipc-bench of the tree this test is in.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <limits.h>
#include <libgen.h>
#include <sys/stat.h>

#include "../kselftest_harness.h"
#include "kipc_test.h"

#define BENCH_TIMEOUT	300	/* seconds, for a slow emulated machine */

static char bench_bin[PATH_MAX];
static char dir[PATH_MAX];
static char json_path[PATH_MAX + 16], csv_path[PATH_MAX + 16];
static char out_path[PATH_MAX + 16], list_path[PATH_MAX + 16];
static int bench_status = -1;	/* wait status of the quick run */
static pid_t owner;

/* ----------------------------------------------------- a small JSON reader */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype type;
	double num;
	char *str;		/* J_STR */
	struct jv **kids;	/* J_ARR, J_OBJ */
	char **keys;		/* J_OBJ */
	int n;
};

struct jparser {
	const char *p;
	const char *err;
};

static void jfree(struct jv *v)
{
	int i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		jfree(v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->str);
	free(v);
}

static void jws(struct jparser *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static struct jv *jfail(struct jparser *j, struct jv *v, const char *why)
{
	if (!j->err)
		j->err = why;
	jfree(v);
	return NULL;
}

/* A string (the opening quote is at j->p); escapes are checked, not decoded. */
static char *jstring(struct jparser *j)
{
	const char *s = ++j->p;
	char *out;
	int i;

	for (;;) {
		unsigned char c = *j->p;

		if (!c || c < 0x20) {
			j->err = "bad or unterminated string";
			return NULL;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			j->p++;
			if (*j->p == 'u') {
				for (i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)j->p[i])) {
						j->err = "bad \\u escape";
						return NULL;
					}
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", *j->p) || !*j->p) {
				j->err = "bad escape";
				return NULL;
			}
		}
		j->p++;
	}
	out = strndup(s, j->p - s);
	j->p++;
	return out;
}

static struct jv *jvalue(struct jparser *j, int depth);

static struct jv *jcontainer(struct jparser *j, struct jv *v, int depth)
{
	bool obj = v->type == J_OBJ;
	char close = obj ? '}' : ']';

	j->p++;
	jws(j);
	if (*j->p == close) {
		j->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		struct jv *kid;

		jws(j);
		if (obj) {
			if (*j->p != '"')
				return jfail(j, v, "expected a key");
			key = jstring(j);
			if (!key)
				return jfail(j, v, NULL);
			jws(j);
			if (*j->p != ':') {
				free(key);
				return jfail(j, v, "expected ':'");
			}
			j->p++;
		}
		kid = jvalue(j, depth + 1);
		if (!kid) {
			free(key);
			return jfail(j, v, NULL);
		}
		v->kids = realloc(v->kids, (v->n + 1) * sizeof(*v->kids));
		if (obj)
			v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
		v->kids[v->n] = kid;
		if (obj)
			v->keys[v->n] = key;
		v->n++;
		jws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p != close)
			return jfail(j, v, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		j->p++;
		return v;
	}
}

static struct jv *jvalue(struct jparser *j, int depth)
{
	struct jv *v = calloc(1, sizeof(*v));
	const char *s;

	if (depth > 32)
		return jfail(j, v, "nested too deeply");
	jws(j);
	switch (*j->p) {
	case '{':
		v->type = J_OBJ;
		return jcontainer(j, v, depth);
	case '[':
		v->type = J_ARR;
		return jcontainer(j, v, depth);
	case '"':
		v->type = J_STR;
		v->str = jstring(j);
		return v->str ? v : jfail(j, v, NULL);
	}
	if (!strncmp(j->p, "null", 4)) {
		j->p += 4;
		return v;
	}
	if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
		v->type = J_BOOL;
		v->num = *j->p == 't';
		j->p += *j->p == 't' ? 4 : 5;
		return v;
	}
	/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
	s = j->p;
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return jfail(j, v, "unexpected character");
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return jfail(j, v, "bad number");
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return jfail(j, v, "bad number");
		while (isdigit((unsigned char)*s))
			s++;
	}
	v->type = J_NUM;
	v->num = strtod(j->p, NULL);
	j->p = s;
	return v;
}

static struct jv *jget(const struct jv *obj, const char *key)
{
	int i;

	if (!obj || obj->type != J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->kids[i];
	return NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Parse a whole file: NULL (and *err set) unless it is one JSON value. */
static struct jv *jload(const char *path, const char **err)
{
	struct jparser j = { 0 };
	char *text = slurp(path);
	struct jv *v;

	*err = "cannot read the file";
	if (!text)
		return NULL;
	j.p = text;
	v = jvalue(&j, 0);
	if (v) {
		jws(&j);
		if (*j.p) {
			jfree(v);
			v = NULL;
			j.err = "trailing characters";
		}
	}
	*err = j.err;
	free(text);
	return v;
}

/* ------------------------------------------------------------ the run */

static int run(char *const argv[], const char *out)
{
	int status, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		alarm(BENCH_TIMEOUT);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void __attribute__((constructor)) bench_run(void)
{
	const char *env = getenv("KIPC_BENCH");
	char self[PATH_MAX];
	ssize_t len;

	owner = getpid();
	if (env) {
		snprintf(bench_bin, sizeof(bench_bin), "%s", env);
	} else {
		len = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (len < 0)
			return;
		self[len] = '\0';
		snprintf(bench_bin, sizeof(bench_bin), "%s/../../tools/kipc-bench",
			 dirname(self));
	}
	if (access(bench_bin, X_OK))
		return;
	snprintf(dir, sizeof(dir), "%s/kipc-bench-test.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return;
	}
	snprintf(json_path, sizeof(json_path), "%s/bench.json", dir);
	snprintf(csv_path, sizeof(csv_path), "%s/bench.csv", dir);
	snprintf(out_path, sizeof(out_path), "%s/bench.txt", dir);
	snprintf(list_path, sizeof(list_path), "%s/list.txt", dir);

	char *list_argv[] = { bench_bin, "--list", NULL };
	char *quick_argv[] = { bench_bin, "--quick", "--quiet", "--json", json_path,
			       "--csv", csv_path, NULL };

	if (run(list_argv, list_path) == 0)
		bench_status = run(quick_argv, out_path);
}

static void __attribute__((destructor)) bench_cleanup(void)
{
	if (getpid() != owner || !dir[0])
		return;
	unlink(json_path);
	unlink(csv_path);
	unlink(out_path);
	unlink(list_path);
	rmdir(dir);
}

/* The mechanisms `kipc-bench --list` calls available; count returned. */
static int available_mechs(char names[][32], int max)
{
	char line[256], name[32], state[32];
	FILE *f = fopen(list_path, "re");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n < max) {
		if (sscanf(line, "%31s %*s %*s %31s", name, state) != 2)
			continue;
		if (!strcmp(state, "available"))
			memcpy(names[n++], name, sizeof(name));
	}
	fclose(f);
	return n;
}

#define ASSERT_RAN() do {						\
	ASSERT_EQ(0, access(bench_bin, X_OK)) {				\
		TH_LOG("no kipc-bench at %s: build it (make tools) or set KIPC_BENCH", \
		       bench_bin);					\
	}								\
	ASSERT_NE(0, dir[0]);						\
} while (0)

TEST(quick_run_exits_zero_with_a_table)
{
	char *text;

	ASSERT_RAN();
	ASSERT_TRUE(WIFEXITED(bench_status));
	ASSERT_EQ(0, WEXITSTATUS(bench_status));
	text = slurp(out_path);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, "== round trip"));
	EXPECT_NE(NULL, strstr(text, "== one-way stream"));
	EXPECT_NE(NULL, strstr(text, "== goals"));
	free(text);
}

TEST(json_is_well_formed)
{
	const char *err = NULL;
	struct jv *root;

	ASSERT_RAN();
	root = jload(json_path, &err);
	ASSERT_NE(NULL, root) {
		TH_LOG("%s: %s", json_path, err ? err : "?");
	}
	EXPECT_EQ(J_OBJ, root->type);
	EXPECT_NE(NULL, jget(root, "meta"));
	EXPECT_NE(NULL, jget(root, "results"));
	jfree(root);
}

TEST(json_records_have_every_key)
{
	static const char *const num_keys[] = {
		"p50_ns", "p99_ns", "msgs_per_s", "bytes_per_s",
	};
	static const char *const str_keys[] = {
		"workload", "mech", "placement", "cpus", "status",
	};
	struct jv *root, *res, *r, *v;
	const char *err;
	unsigned int k;
	int i;

	ASSERT_RAN();
	root = jload(json_path, &err);
	ASSERT_NE(NULL, root);
	res = jget(root, "results");
	ASSERT_NE(NULL, res);
	ASSERT_EQ(J_ARR, res->type);
	ASSERT_LT(0, res->n);
	for (i = 0; i < res->n; i++) {
		r = res->kids[i];
		ASSERT_EQ(J_OBJ, r->type);
		v = jget(r, "size");
		ASSERT_NE(NULL, v);
		EXPECT_EQ(J_NUM, v->type);
		for (k = 0; k < ARRAY_SIZE(str_keys); k++) {
			v = jget(r, str_keys[k]);
			ASSERT_NE(NULL, v) TH_LOG("record %d has no %s", i, str_keys[k]);
			EXPECT_EQ(J_STR, v->type);
		}
		for (k = 0; k < ARRAY_SIZE(num_keys); k++) {
			v = jget(r, num_keys[k]);
			ASSERT_NE(NULL, v) TH_LOG("record %d has no %s", i, num_keys[k]);
			EXPECT_TRUE(v->type == J_NUM || v->type == J_NULL);
		}
		/* Every measured record has its headline number. */
		if (!strcmp(jget(r, "status")->str, "ok"))
			EXPECT_TRUE(jget(r, "p50_ns")->type == J_NUM ||
				    jget(r, "msgs_per_s")->type == J_NUM);
	}
	jfree(root);
}

TEST(every_mechanism_ran_without_error)
{
	char names[64][32];
	struct jv *root, *res, *r;
	const char *err;
	int n, i, m, ok;

	ASSERT_RAN();
	n = available_mechs(names, 64);
	ASSERT_LE(14, n) TH_LOG("kipc-bench --list shows %d mechanisms", n);
	root = jload(json_path, &err);
	ASSERT_NE(NULL, root);
	res = jget(root, "results");
	ASSERT_NE(NULL, res);
	for (i = 0; i < res->n; i++) {
		r = res->kids[i];
		EXPECT_STRNE("error", jget(r, "status")->str) {
			TH_LOG("%s %s: %s", jget(r, "workload")->str, jget(r, "mech")->str,
			       jget(r, "note") ? jget(r, "note")->str : "");
		}
	}
	for (m = 0; m < n; m++) {
		ok = 0;
		for (i = 0; i < res->n; i++) {
			r = res->kids[i];
			if (!strcmp(jget(r, "mech")->str, names[m]) &&
			    !strcmp(jget(r, "status")->str, "ok"))
				ok++;
		}
		EXPECT_LT(0, ok) TH_LOG("no successful measurement of %s", names[m]);
	}
	jfree(root);
}

TEST(csv_has_a_row_per_json_record)
{
	struct jv *root, *res;
	char *text, *p;
	const char *err;
	int rows = 0;

	ASSERT_RAN();
	root = jload(json_path, &err);
	ASSERT_NE(NULL, root);
	res = jget(root, "results");
	ASSERT_NE(NULL, res);
	text = slurp(csv_path);
	ASSERT_NE(NULL, text);
	ASSERT_EQ(0, strncmp(text, "workload,size,placement,cpus,mech,", 34));
	for (p = text; *p; p++)
		rows += *p == '\n';
	EXPECT_EQ(res->n + 1, rows);
	free(text);
	jfree(root);
}

TEST_HARNESS_MAIN
