/*
 * oauth.h: the built-in OAuth 2.0 token client (RFC 6749) for XOAUTH2 and
 * OAUTHBEARER: it obtains an access token from a token endpoint with the
 * refresh-token grant (section 6, as Google and Microsoft use it) or the
 * client-credentials grant (section 4.4), and caches it with its expiry.
 *
 * Nothing here logs or returns a secret: errors name the endpoint, the
 * HTTP status and the server's "error" and "error_description", with any
 * secret, refresh token or access token the text might contain masked.
 */
#ifndef PST_OAUTH_H
#define PST_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

/* All strings borrowed; NULL where optional. */
struct oauth_cfg {
	const char	*token_url;	/* https://... (required) */
	const char	*client_id;	/* (required) */
	/*
	 * First line: the client secret, sent as client_secret in the
	 * body (RFC 6749 2.3.1). NULL for a public client (refresh-token
	 * grant only).
	 */
	const char	*client_secret_file;
	/*
	 * First line: the refresh token. Set: the refresh-token grant,
	 * and a token the server rotates is saved back here atomically
	 * (the directory must be writable). NULL: the client-credentials
	 * grant, which needs client_secret_file.
	 */
	const char	*refresh_token_file;
	const char	*scope;		/* sent as "scope" when set */
	const char	*ca_file;	/* trusted CAs; NULL: system store */
	bool		 verify;	/* certificate chain and host name */
	unsigned	 timeout;	/* seconds for one exchange; 0: 30 */
	/*
	 * The token cache, a file of mode 0600 written atomically, and a
	 * lock file beside it (PATH.lock) so that concurrent workers make
	 * one request. NULL: no cache, every call asks the endpoint.
	 */
	const char	*cache_path;
};

#define OAUTH_FORCE_REFRESH	0x01	/* the cached token was refused */

/*
 * Puts a valid access token into token (reset first; the caller wipes
 * it with OPENSSL_cleanse or psasl_wipe, and frees it). A cached token is
 * used while oauth_fresh() says so, unless OAUTH_FORCE_REFRESH is given,
 * in which case only a token that another process obtained meanwhile
 * (a different one) is used from the cache.
 *
 * 0 on success, with err "" or a warning that the caller should log
 * (the cache or a rotated refresh token could not be saved). -1 with err
 * ("token endpoint URL: reason") on failure: nothing usable was obtained;
 * errno is then EAGAIN when the failure may pass by itself (the endpoint
 * could not be reached or did not answer in time, TLS with it failed, it
 * answered 5xx or 429, another process held the cache's lock too long),
 * EINVAL when someone has to act (a refused grant or client, a secret
 * file, an answer that is not a token).
 */
int	oauth_token(const struct oauth_cfg *, int flags, struct buf *token,
	    char *err, size_t errlen);

/*
 * Whether a token obtained at obtained and expiring at expires (wall
 * clock seconds) may still be used at now: it must stay valid for more
 * than min(300 s, a tenth of its lifetime), so a token is refreshed a
 * little before it expires and a short-lived one is still used for most
 * of its life. A clock that went back more than 300 s before obtained
 * makes it stale. Pure.
 */
bool	oauth_fresh(time_t obtained, time_t expires, time_t now);

#endif
