<?php
// php_mail.php: calls PHP's mail() the way a web application does, for
// tests/integration/callers.sh (run it with "php -n -d sendmail_path=...").
// A pre-encoded UTF-8 subject (php -n has no mbstring), an 8-bit body with
// LF line ends and lines a lone "." or leading dots, extra headers with Cc
// and Bcc, and "-fsender@x.org" as additional_params. Prints "true" or
// "false": what mail() returned.
$subject = '=?UTF-8?B?' . base64_encode('Grüße aus PHP – ☃') . '?=';
$body = "Grüße, 8-bit body: äöü € ☃\n"
    . ".\n"
    . ".leading dot\n"
    . "..two leading dots\n"
    . "From the start of a line\n"
    . "\n"
    . "last line";
$headers = "From: PHP Sender <sender@x.org>\r\n"
    . "Cc: cc@x.org\r\n"
    . "Bcc: bcc@x.org\r\n"
    . "MIME-Version: 1.0\r\n"
    . "Content-Type: text/plain; charset=UTF-8\r\n"
    . "Content-Transfer-Encoding: 8bit";
echo mail('rcpt@x.org', $subject, $body, $headers, '-fsender@x.org') ? "true\n" : "false\n";
