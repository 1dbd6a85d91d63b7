/*
 * fuzz_ctl.c -- fuzz target for the control socket codec: the frame reader
 * (ctl_reader_feed) over a byte stream cut into chunks, and the request and
 * response parsers on every frame it yields.
 *
 * Input: byte 0 seeds the chunk sizes, the rest is what a peer sends.  The
 * same stream is also fed in one piece: both readers must agree on every
 * frame and every error.  A frame re-encodes to exactly the bytes it came
 * from; a request or response that parsed formats and parses back equal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsad/ctl.h"
#include "tlsad/error.h"

/* Most frames taken from one input (keeps each run short). */
#define FRAMES_MAX	64

/* A tiny deterministic generator for chunk sizes. */
static size_t
next_chunk(uint32_t *seed, size_t left)
{
	size_t	n;

	*seed = *seed * 1103515245u + 12345u;
	switch ((*seed >> 16) & 3) {
	case 0:
		n = 1;
		break;
	case 1:
		n = 1 + ((*seed >> 8) & 7);
		break;
	case 2:
		n = 1 + ((*seed >> 4) & 0x3ff);
		break;
	default:
		n = left;
		break;
	}
	return n < left ? n : left;
}

static void
check_req(const char *text, size_t len)
{
	struct ctl_req	 req, back;
	char		 line[CTL_ARG_MAX + 32], lineage[CTL_ARG_MAX];
	const char	*verb;
	size_t		 n;
	int		 rc;

	rc = ctl_req_parse(text, len, &req);
	if (rc != 0) {
		if (rc != TLSAD_ECTL_PROTO && rc != TLSAD_ETOOBIG)
			abort();
		return;
	}
	verb = ctl_verb_name(req.verb);
	if (verb == NULL)
		abort();
	n = strlen(req.arg);
	if (req.has_arg != (n > 0) || n >= sizeof(req.arg))
		abort();
	if (req.has_arg)
		snprintf(line, sizeof(line), "%s %s\n", verb, req.arg);
	else
		snprintf(line, sizeof(line), "%s", verb);
	if (ctl_req_parse(line, strlen(line), &back) != 0 ||
	    back.verb != req.verb || back.has_arg != req.has_arg ||
	    strcmp(back.arg, req.arg) != 0)
		abort();
	(void)ctl_req_needs_root(req.verb);
	if (req.verb == CTL_KICK &&
	    ctl_lineage_name(req.arg, lineage, sizeof(lineage)) == 0) {
		if (lineage[0] == '\0' || strchr(lineage, '/') != NULL ||
		    strcmp(lineage, ".") == 0 || strcmp(lineage, "..") == 0)
			abort();
	}
}

static void
check_resp(const char *text)
{
	const char	*body, *body2;
	char		*again = NULL;
	size_t		 againlen;
	int		 code, code2, rc;

	rc = ctl_resp_parse(text, &code, &body);
	if (rc != 0) {
		if (rc != TLSAD_ECTL_PROTO)
			abort();
		return;
	}
	if (code > 0 || body == NULL || body < text ||
	    body > text + strlen(text))
		abort();
	rc = ctl_resp_format(code, body, &again, &againlen);
	if (rc == TLSAD_ETOOBIG)
		return;
	if (rc != 0 || strlen(again) != againlen)
		abort();
	if (ctl_resp_parse(again, &code2, &body2) != 0 || code2 != code ||
	    strcmp(body2, body) != 0)
		abort();
	free(again);
}

/* The frame re-encodes to the bytes it was read from. */
static void
check_frame(const char *text, size_t len, const uint8_t *from, size_t fromlen)
{
	uint8_t	*frame = NULL;
	size_t	 framelen = 0;

	if (len == 0 || len > CTL_FRAME_MAX || strlen(text) != len)
		abort();
	if (ctl_frame_encode(text, len, &frame, &framelen) != 0)
		abort();
	if (framelen != fromlen || memcmp(frame, from, fromlen) != 0)
		abort();
	free(frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_reader	 chunked, whole;
	uint32_t		 seed;
	size_t			 off = 1, start = 1, n, used, wused, len, wlen;
	char			*text = NULL, *wtext = NULL;
	int			 rc, wrc, frames = 0;

	if (size < 1)
		return 0;
	seed = data[0];
	ctl_reader_init(&chunked);
	ctl_reader_init(&whole);
	while (off < size && frames < FRAMES_MAX) {
		n = next_chunk(&seed, size - off);
		rc = ctl_reader_feed(&chunked, data + off, n, &used);
		if (used > n)
			abort();
		off += used;
		if (rc == 0) {
			if (used != n)
				abort();
			if (off < size)
				continue;
		}
		/* Fed the rest in one piece, a reader sees the same. */
		wrc = ctl_reader_feed(&whole, data + start, size - start, &wused);
		if (wrc != rc)
			abort();
		if (rc <= 0)
			break;
		if (wused != off - start)
			abort();
		ctl_reader_take(&chunked, &text, &len);
		ctl_reader_take(&whole, &wtext, &wlen);
		if (len != wlen || memcmp(text, wtext, len + 1) != 0)
			abort();
		check_frame(text, len, data + start, off - start);
		check_req(text, len);
		check_resp(text);
		free(text);
		free(wtext);
		text = wtext = NULL;
		start = off;
		frames++;
	}
	ctl_reader_clear(&chunked);
	ctl_reader_clear(&whole);
	return 0;
}
