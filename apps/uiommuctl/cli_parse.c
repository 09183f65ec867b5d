/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * uiommuctl: strict parsers for numbers, sizes, PCI addresses and names
 * (cli_parse.h has the rules).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The leading number of @s (strtoull, base 0) with *end after it; the
 * first character must be a digit (strtoull would skip blanks and take a
 * sign: "-1" would become 2^64-1). */
static int parse_num(const char *s, uint64_t *v, char **end)
{
	if (!s || !is_digit(s[0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end == s)
		return -EINVAL;
	return 0;
}

int cli_parse_u64(const char *s, uint64_t *v)
{
	char *end;
	int rc = parse_num(s, v, &end);

	if (rc)
		return rc;
	return *end ? -EINVAL : 0;
}

int cli_parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	uint64_t x;
	int rc = cli_parse_u64(s, &x);

	if (rc)
		return rc;
	if (x < min || x > max)
		return -ERANGE;
	*v = x;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *v)
{
	unsigned int shift;
	uint64_t x;
	char *end;
	int rc = parse_num(s, &x, &end);

	if (rc)
		return rc;
	switch (*end) {
	case '\0':
		*v = x;
		return 0;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	end++;
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	if (x > (UINT64_MAX >> shift))
		return -ERANGE;
	*v = x << shift;
	return 0;
}

/* 1..@maxdig hex digits at *p up to @stop, value <= @max; advances *p. */
static bool hex_field(const char **p, char stop, unsigned int maxdig, unsigned int max,
		      unsigned int *v)
{
	unsigned int n = 0, x = 0;
	int d;

	while ((d = hex_val((*p)[n])) >= 0) {
		if (++n > maxdig)
			return false;
		x = x * 16 + (unsigned int)d;
	}
	if (!n || (*p)[n] != stop || x > max)
		return false;
	*p += n + (stop ? 1 : 0);
	*v = x;
	return true;
}

int cli_parse_bdf(const char *s, uint16_t *seg, uint16_t *rid)
{
	unsigned int a = 0, b = 0, d, f, colons = 0;
	const char *p = s;

	if (!s)
		return -EINVAL;
	for (const char *q = s; *q; q++)
		colons += *q == ':';
	if (colons > 2)
		return -EINVAL;
	if (colons == 2 && !hex_field(&p, ':', 4, 0xffff, &a))
		return -EINVAL;
	if (colons >= 1 && !hex_field(&p, ':', 2, 0xff, &b))
		return -EINVAL;
	if (!hex_field(&p, '.', 2, 0x1f, &d) || !hex_field(&p, '\0', 1, 7, &f))
		return -EINVAL;
	*seg = (uint16_t)a;
	*rid = (uint16_t)(b << 8 | d << 3 | f);
	return 0;
}

const char *cli_name_problem(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint16_t seg, rid;

	if (!n)
		return "empty";
	if (n > 31)
		return "longer than 31 characters";
	if (!is_alpha(s[0]) && s[0] != '_')
		return "the first character must be a letter or '_'";
	for (size_t i = 1; i < n; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && !strchr("_-.:", s[i]))
			return "only letters, digits, '_', '-', '.' and ':' are allowed";
	if (cli_parse_bdf(s, &seg, &rid) == 0)
		return "it reads as a PCI address";
	return NULL;
}
