<?php
// symfony.php: sends mail with Symfony Mailer's SendmailTransport (Debian's
// php-symfony-mailer), for tests/integration/callers.sh.
//
//   php symfony.php COMMAND OUTDIR TAG COUNT
//
// COMMAND is the transport's sendmail command ("... -bs" or "... -t -i").
// Sends COUNT messages with the same transport (with -bs: one SMTP
// session), each from sf@x.org to to@x.org, Cc cc@x.org, Bcc bcc@x.org,
// with Subject "TAG N Grüße", "X-Test: TAG N", an 8-bit text body and a
// small attachment; writes the message the transport sent (with -bs,
// what its DATA carried) to OUTDIR/TAG-N.in and the attachment's bytes
// to OUTDIR/TAG-N.att. Prints "sent COUNT" and exits 0, or prints
// "EXCEPTION CLASS: MESSAGE" and exits 1.
require_once '/usr/share/php/Symfony/Component/Mailer/autoload.php';

use Symfony\Component\Mailer\Transport\SendmailTransport;
use Symfony\Component\Mime\Email;

[, $command, $outdir, $tag, $count] = $argv;
try {
    $transport = new SendmailTransport($command);
    for ($n = 1; $n <= (int)$count; $n++) {
        $email = (new Email())
            ->from('Symfony Sender <sf@x.org>')
            ->to('to@x.org')
            ->cc('cc@x.org')
            ->bcc('bcc@x.org')
            ->subject("$tag $n Grüße")
            ->text("Hallo $n, äöü €\n.\n.leading dot\nend\n")
            ->attach($att = "attachment $n \x00\xff\n", "a$n.bin", 'application/octet-stream');
        file_put_contents("$outdir/$tag-$n.att", $att);
        $email->getHeaders()->addTextHeader('X-Test', "$tag $n");
        $sent = $transport->send($email);
        // with -bs, SmtpTransport ends DATA with "\r\n.\r\n" after a
        // message that ends in CRLF: one more empty line is part of it
        file_put_contents("$outdir/$tag-$n.in", $sent->toString()
            . (str_contains($command, ' -bs') ? "\r\n" : ''));
    }
    $transport = null;	// -bs: QUIT now
    echo "sent $count\n";
} catch (\Throwable $e) {
    echo 'EXCEPTION ' . get_class($e) . ': ' . str_replace("\n", ' ', $e->getMessage()) . "\n";
    exit(1);
}
