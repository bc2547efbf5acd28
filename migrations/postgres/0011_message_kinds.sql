-- Who wrote a stored line: a buyer's text (analysed, answered), a buyer's placeholder
-- (image, sticker, order card…) or the shop's own line (Shopee pushes, Rakuten merchant
-- replies, anfu's own sends echoed back). Only buyer_text is ever analysed or answered.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'buyer_text';
