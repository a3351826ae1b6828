/* verdict.c - the one table that turns reasons into a verdict.
 *
 * Rows are ordered most severe first; internal-error rows are tempfail and
 * nothing is configurable to accept.  A reason missing from the table is
 * treated as suspect, so a new detector errs toward caution until it gets a
 * row.  The smtp/dsn/text columns are what the milter answers.
 */
#include "sanitize/verdict.h"
#include <string.h>

const verdict_row verdict_table[] = {
	/* temporary failures: we could not finish; the sender retries */
	{ "internal:", VERDICT_TEMPFAIL, "451", "4.7.0", "mail sanitizer internal error, try again later", "内部エラー" },
	{ "quarantine-failed", VERDICT_TEMPFAIL, "451", "4.7.0", "mail sanitizer cannot store the original, try again later", "原本を保存できませんでした" },
	{ "audit-failed", VERDICT_TEMPFAIL, "451", "4.7.0", "mail sanitizer cannot write its audit log, try again later", "監査ログを書き込めませんでした" },
	{ "output-check-failed", VERDICT_TEMPFAIL, "451", "4.7.0", "mail sanitizer produced an invalid message, try again later", "出力検査に失敗しました" },
	{ "limit:time", VERDICT_TEMPFAIL, "451", "4.7.0", "mail sanitizer time limit exceeded, try again later", "処理時間の上限を超えました" },
	/* [detect] clamd_socket set: a part that could not be scanned fails closed */
	{ "clamav-unavailable", VERDICT_TEMPFAIL, "451", "4.7.0", "virus scanner (clamd) unreachable, try again later", "ウイルス検査 (clamd) に接続できませんでした" },
	{ "clamav-timeout", VERDICT_TEMPFAIL, "451", "4.7.0", "virus scanner (clamd) did not answer in time, try again later", "ウイルス検査 (clamd) が時間内に応答しませんでした" },
	{ "clamav-error", VERDICT_TEMPFAIL, "451", "4.7.0", "virus scanner (clamd) failed, try again later", "ウイルス検査 (clamd) が失敗しました" },
	/* rejections: policy says no, with a clear reason */
	{ "limit:message-size", VERDICT_REJECTED, "552", "5.3.4", "message too big for this gateway", "メールのサイズが上限を超えています" },
	{ "limit:header-bytes", VERDICT_REJECTED, "552", "5.3.4", "message header too large for this gateway", "ヘッダーが上限を超えています" },
	{ "policy:suspect-rejected", VERDICT_REJECTED, "550", "5.7.1", "message refused: suspect content ([policy] on_suspect = reject)", "要確認のため受け付けませんでした" },
	/* discarded: accepted (250) and not delivered; the original is kept */
	{ "policy:suspect-discarded", VERDICT_DISCARDED, NULL, NULL, "accepted and discarded: suspect content ([policy] on_suspect = discard)", "要確認のため受け取り、配送しませんでした" },
	{ "malformed-message", VERDICT_REJECTED, "550", "5.6.0", "message could not be parsed", "メールを解析できません" },
	/* suspect: held for an administrator; MIME ambiguity resolved toward removal */
	{ "parse-warning:crit-", VERDICT_SUSPECT, NULL, NULL, "ambiguous MIME structure", "MIME 構造があいまいです" },
	{ "mime-in-preamble", VERDICT_SUSPECT, NULL, NULL, "MIME part hidden before the first or after the last boundary (not shown)", "境界の前後に隠された MIME パートがあります（表示していません）" },
	/* the raw bytes read otherwise than GMime's tree (rawlook.c); a body
	 * they concern is removed, not shown */
	{ "boundary-mismatch", VERDICT_SUSPECT, NULL, NULL, "MIME boundary a lenient mail client reads differently (case, trailing characters, unused, reused or encoded boundary)", "MIME の境界があいまいで、メールソフトによって区切り方が変わります" },
	{ "mime-in-body", VERDICT_SUSPECT, NULL, NULL, "MIME headers inside a body, where some mail clients see another part (not shown)", "本文の中に MIME ヘッダーがあり、別のパートとして読むメールソフトがあります（表示していません）" },
	{ "folded-header", VERDICT_SUSPECT, NULL, NULL, "Content-* header hidden inside another header", "ほかのヘッダーの中に Content-* ヘッダーが隠されています" },
	{ "unknown-encoding", VERDICT_SUSPECT, NULL, NULL, "unknown Content-Transfer-Encoding: inspected undecoded, a mail client may decode it", "不明な転送エンコーディングのため復号せずに検査しました（メールソフトによっては復号されます）" },
	{ "limit:mime-depth", VERDICT_SUSPECT, NULL, NULL, "MIME nesting deeper than the limit; deeper parts removed", "MIME の入れ子が上限を超えたため、それより深いパートを取り除きました" },
	{ "limit:parts", VERDICT_SUSPECT, NULL, NULL, "more MIME parts than the limit; the rest removed", "パート数が上限を超えたため、残りを取り除きました" },
	{ "limit:decoded-size", VERDICT_SUSPECT, NULL, NULL, "decoded size over the limit; not fully inspected", "展開後のサイズが上限を超えたため、検査を打ち切りました" },
	{ "type-mismatch", VERDICT_SUSPECT, NULL, NULL, "name or declared type differs from the content", "ファイル名・申告された形式と中身が一致しません" },
	{ "filename-ambiguous", VERDICT_SUSPECT, NULL, NULL, "filename and name parameters differ", "ファイル名の指定が二通りあり、一致しません" },
	{ "filename-control-chars", VERDICT_SUSPECT, NULL, NULL, "file name contains control or bidi characters", "ファイル名に制御文字・表示方向を変える文字が含まれます" },
	{ "duplicate-parameter", VERDICT_SUSPECT, NULL, NULL, "a MIME parameter is given twice", "MIME パラメータが重複しています" },
	{ "base64-after-padding", VERDICT_SUSPECT, NULL, NULL, "base64 data continues after padding (chunked base64)", "base64 の終端の後にデータが続いています" },
	{ "message-partial", VERDICT_SUSPECT, NULL, NULL, "message/partial fragment (reassembly is a known evasion)", "分割メッセージ (message/partial) の断片です" },
	{ "message-encoded", VERDICT_SUSPECT, NULL, NULL, "attached message with a transfer encoding (RFC 2046 forbids it; MIME scanners skip it, mail clients open it)", "転送エンコードされた添付メール（規格違反。検査をすり抜ける手口です）" },
	{ "message-unreadable", VERDICT_SUSPECT, NULL, NULL, "attached message that could not be parsed", "添付メールを解析できませんでした" },
	{ "message-external-body", VERDICT_SUSPECT, NULL, NULL, "message/external-body reference", "外部参照本文 (message/external-body) です" },
	/* suspect files (sanitize/inspect.c and its detectors) */
	{ "executable", VERDICT_SUSPECT, NULL, NULL, "executable program (PE, ELF, Mach-O, MSI, LNK, Java)", "実行ファイルです" },
	{ "executable-name", VERDICT_SUSPECT, NULL, NULL, "file name of an executable or script type", "実行ファイル・スクリプトの拡張子です" },
	{ "script", VERDICT_SUSPECT, NULL, NULL, "script", "スクリプトです" },
	{ "double-extension", VERDICT_SUSPECT, NULL, NULL, "double extension hiding an executable type", "二重拡張子で実行形式を隠しています" },
	{ "disk-image", VERDICT_SUSPECT, NULL, NULL, "disk image (iso, img, vhd)", "ディスクイメージです" },
	{ "onenote", VERDICT_SUSPECT, NULL, NULL, "OneNote file (often used to deliver malware)", "OneNote ファイルです" },
	{ "html-attachment", VERDICT_SUSPECT, NULL, NULL, "HTML or SVG file (can run scripts, phishing forms)", "HTML・SVG ファイルです" },
	{ "macro", VERDICT_SUSPECT, NULL, NULL, "Office document with macros", "マクロを含む Office 文書です" },
	{ "encrypted", VERDICT_SUSPECT, NULL, NULL, "encrypted file: its content cannot be inspected", "暗号化されていて中身を検査できません" },
	{ "embedded-object", VERDICT_SUSPECT, NULL, NULL, "document with embedded objects", "文書に埋め込みオブジェクトがあります" },
	{ "polyglot", VERDICT_SUSPECT, NULL, NULL, "file with a zip archive appended (archivers open it; its files are listed)", "ファイルの後ろに ZIP 書庫が連結されています（展開ソフトで開けます）" },
	{ "dde", VERDICT_SUSPECT, NULL, NULL, "document with a DDE field or link (starts a program when opened)", "文書に DDE フィールド（開くとプログラムを起動する仕組み）があります" },
	{ "external-reference", VERDICT_SUSPECT, NULL, NULL, "document loads content from outside (remote template)", "文書が外部の内容を読み込みます" },
	{ "pdf-active", VERDICT_SUSPECT, NULL, NULL, "PDF with active content (JavaScript, launch actions, embedded files)", "PDF に動作する内容（JavaScript など）があります" },
	{ "archive-bomb", VERDICT_SUSPECT, NULL, NULL, "archive or attached message over the expansion limits (size, entries, nesting)", "展開の上限（サイズ・個数・入れ子）を超える圧縮ファイル・添付メールです" },
	{ "archive-executable", VERDICT_SUSPECT, NULL, NULL, "archive or attached message (.zip, .msg, .eml ...) holding an executable or script", "圧縮ファイル・添付メールの中に実行ファイル・スクリプトがあります" },
	{ "archive-macro", VERDICT_SUSPECT, NULL, NULL, "archive or attached message holding a document with macros", "圧縮ファイル・添付メールの中にマクロ付き文書があります" },
	{ "archive-unreadable", VERDICT_SUSPECT, NULL, NULL, "archive that could not be read", "圧縮ファイルを読めませんでした" },
	{ "document-unreadable", VERDICT_SUSPECT, NULL, NULL, "document that could not be inspected", "文書を検査できませんでした" },
	{ "tnef-unreadable", VERDICT_SUSPECT, NULL, NULL, "Outlook TNEF (winmail.dat) that could not be read in full", "Outlook の TNEF 形式（winmail.dat）を読み切れませんでした" },
	{ "encoded-in-text", VERDICT_SUSPECT, NULL, NULL, "file hidden in the text as uuencode, yEnc or BinHex: cut out", "本文中に符号化されたファイル（uuencode など）があり、取り除きました" },
	/* ClamAV: "clamav:" + the signature name clamd gave; a part over
	 * clamd_max_size or clamd's StreamMaxLength is not scanned, and since
	 * retrying cannot change that, it is held for a look, not tempfailed */
	{ "clamav:", VERDICT_SUSPECT, NULL, NULL, "ClamAV found malware or a threat", "ウイルス対策ソフト ClamAV が脅威を検出しました" },
	{ "clamav-too-large", VERDICT_SUSPECT, NULL, NULL, "too large for the virus scanner: not scanned", "ウイルス検査の上限より大きいため検査していません" },
	/* sanitized: changed as policy says */
	{ "attachment", VERDICT_SANITIZED, NULL, NULL, "attachment removed", "添付ファイル" },
	{ "html-converted", VERDICT_SANITIZED, NULL, NULL, "HTML converted to text", "HTML をテキストに変換" },
	{ "alternative-duplicate", VERDICT_SANITIZED, NULL, NULL, "HTML alternative holds the same text as the plain one", "HTML 版はテキスト版と同じ内容" },
	{ "text-too-large", VERDICT_SANITIZED, NULL, NULL, "text body larger than the inline limit", "本文が表示の上限より大きい" },
	{ "html-conversion-failed", VERDICT_SANITIZED, NULL, NULL, "HTML body could not be converted; kept in the quarantine", "HTML 本文を変換できませんでした（原本は隔離）" },
	{ "charset-invalid", VERDICT_SANITIZED, NULL, NULL, "undecodable bytes replaced by U+FFFD", "解読できない文字を置き換えました" },
	{ "policy:suspect-delivered", VERDICT_SANITIZED, NULL, NULL, "suspect content delivered as text by a [policy] exception", "例外設定により、要確認の内容をテキストで配送しました" },
	{ "signature", VERDICT_SANITIZED, NULL, NULL, "digital signature removed: it does not match the rebuilt message", "電子署名は、組み直したメールとは一致しないため取り除きました" },
	/* informational: recorded, no effect on the verdict */
	{ "parse-warning:", VERDICT_CLEAN, NULL, NULL, "MIME parser warning", "MIME 解析の警告" },
	{ "charset-unknown", VERDICT_CLEAN, NULL, NULL, "unknown charset label, detected instead", "不明な文字コード名のため自動判定" },
	{ "charset-guessed", VERDICT_CLEAN, NULL, NULL, "no charset label, detected", "文字コードを自動判定" },
	{ "html-hidden-text", VERDICT_CLEAN, NULL, NULL, "HTML contained hidden text (dropped)", "HTML に隠し文字がありました（除去）" },
	{ "html-script", VERDICT_CLEAN, NULL, NULL, "HTML contained scripts (dropped)", "HTML にスクリプトがありました（除去）" },
	{ "html-form", VERDICT_CLEAN, NULL, NULL, "HTML contained a form", "HTML にフォームがありました" },
	{ "tnef", VERDICT_CLEAN, NULL, NULL, "Outlook TNEF (winmail.dat): expanded, the files inside listed and inspected", "Outlook の TNEF 形式（winmail.dat）です。中のファイルを展開して検査しました" },
	{ "pdf-owner-password", VERDICT_CLEAN, NULL, NULL, "PDF with an owner password only (opens without a password): inspected decrypted", "所有者パスワードのみの PDF（パスワードなしで開けます）: 復号して検査しました" },
	{ "base64-bad-char", VERDICT_CLEAN, NULL, NULL, "characters outside the base64 alphabet ignored", "base64 以外の文字を無視しました" },
	{ "base64-truncated", VERDICT_CLEAN, NULL, NULL, "base64 data ends mid-quantum", "base64 データが途中で終わっています" },
	{ NULL, VERDICT_CLEAN, NULL, NULL, NULL, NULL },
};

static const verdict_row unknown_row = {
	"unknown", VERDICT_SUSPECT, NULL, NULL, "unclassified finding", "未分類の検出",
};

const verdict_row *verdict_lookup(const char *reason)
{
	for (const verdict_row *row = verdict_table; row->reason; row++) {
		size_t n = strlen(row->reason);
		char last = row->reason[n - 1];
		if (last == ':' || last == '-') {
			if (strncmp(reason, row->reason, n) == 0)
				return row;
		} else if (strcmp(reason, row->reason) == 0) {
			return row;
		}
	}
	return &unknown_row;
}

/* Severity order: tempfail > rejected > discarded > suspect > sanitized > clean. */
static int severity(enum verdict v)
{
	switch (v) {
	case VERDICT_TEMPFAIL: return 5;
	case VERDICT_REJECTED: return 4;
	case VERDICT_DISCARDED: return 3;
	case VERDICT_SUSPECT: return 2;
	case VERDICT_SANITIZED: return 1;
	default: return 0;
	}
}

static void fold(GPtrArray *reasons, enum verdict *best, const char **why)
{
	for (guint i = 0; i < reasons->len; i++) {
		const char *reason = g_ptr_array_index(reasons, i);
		const verdict_row *row = verdict_lookup(reason);
		if (severity(row->verdict) > severity(*best)) {
			*best = row->verdict;
			*why = reason;
		}
	}
}

bool verdict_part_suspect(const mugai_part *p)
{
	for (guint i = 0; i < p->reasons->len; i++)
		if (severity(verdict_lookup(g_ptr_array_index(p->reasons, i))->verdict) >= severity(VERDICT_SUSPECT))
			return true;
	return false;
}

enum verdict verdict_decide(mugai_result *r)
{
	enum verdict best = VERDICT_CLEAN;
	const char *why = NULL;

	fold(r->reasons, &best, &why);
	for (guint i = 0; i < r->parts->len; i++) {
		mugai_part *p = g_ptr_array_index(r->parts, i);
		fold(p->reasons, &best, &why);
		if (p->action != PART_KEPT && severity(best) < severity(VERDICT_SANITIZED))
			best = VERDICT_SANITIZED;
	}
	r->verdict = best;
	g_free(r->verdict_reason);
	r->verdict_reason = best >= VERDICT_DISCARDED ? g_strdup(why) : NULL;
	return best;
}
